/* voipdesk pages: small progressive enhancements (every page works without them).
   - the navigation as a menu on phones (button.menu-toggle);
   - confirmation dialogs: a form with data-confirm="question" asks in <dialog id=confirm-dialog>;
   - a button with data-print prints the page. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function ready(run) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
    else run();
  }

  ready(function () {
    var toggle = document.querySelector(".menu-toggle");
    var nav = document.getElementById("main-nav");
    if (toggle && nav) {
      toggle.addEventListener("click", function () {
        var open = nav.classList.toggle("is-open");
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
        if (open) {
          var first = nav.querySelector("a");
          if (first) first.focus();
        }
      });
      document.addEventListener("keydown", function (event) {
        if (event.key === "Escape" && nav.classList.contains("is-open")) {
          nav.classList.remove("is-open");
          toggle.setAttribute("aria-expanded", "false");
          toggle.focus();
        }
      });
    }

    var dialog = document.getElementById("confirm-dialog");
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
      if (form.dataset.confirmed === "yes" || !dialog || typeof dialog.showModal !== "function") return;
      event.preventDefault();
      var submitter = event.submitter || null;
      document.getElementById("confirm-dialog-text").textContent = form.dataset.confirm;
      var yes = document.getElementById("confirm-dialog-yes");
      yes.textContent = form.dataset.confirmYes || yes.dataset.defaultLabel || yes.textContent;
      dialog.returnValue = "";
      dialog.addEventListener("close", function onClose() {
        dialog.removeEventListener("close", onClose);
        if (dialog.returnValue === "confirm") {
          form.dataset.confirmed = "yes";
          // Confirmed here: the server's own confirmation page (for pages without script) is
          // not shown a second time.
          if (!form.querySelector("input[name=confirmed]")) {
            var confirmed = document.createElement("input");
            confirmed.type = "hidden";
            confirmed.name = "confirmed";
            confirmed.value = "yes";
            form.appendChild(confirmed);
          }
          if (typeof form.requestSubmit === "function") form.requestSubmit(submitter);
          else form.submit();
        }
      });
      dialog.showModal();
    }, true);
    var yesButton = document.getElementById("confirm-dialog-yes");
    if (yesButton) yesButton.dataset.defaultLabel = yesButton.textContent;

    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });

  });
})();
