"""The credit file (一企一档): records pushed by data providers; grades, lists, objections and
repair are built on these (issue 14)."""
