"""SLA clocks on financing requests, in working days (design.md section 4)."""
