// Copy buttons of the telephony pages: <button data-copy="element-id"> copies that element's text.
document.addEventListener("click", function (event) {
  var button = event.target.closest("button[data-copy]");
  if (!button) return;
  var source = document.getElementById(button.getAttribute("data-copy"));
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.textContent.trim()).then(function () {
    var done = button.getAttribute("data-copied");
    if (done) {
      var status = document.getElementById(button.getAttribute("data-copy") + "-status");
      if (status) status.textContent = done;
    }
  });
});
