"""Half-year and full-year summary reports of a region: the Celery task that builds the PDF."""
