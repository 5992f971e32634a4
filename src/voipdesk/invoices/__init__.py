"""The invoices area: invoice records, their numbering, issuing an invoice, the PDF and
`/me/invoices`."""
