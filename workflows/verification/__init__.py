"""Cash-flow verification (design.md section 5): bank statements in, an explained report out.

Pure: no Flask, no SQLAlchemy, no marketplace imports.
- model.py: the plain records shared by the parser and the policy
- statements.py: parsing what Chinese banks export into normalised transactions
- policy.py: the asset-quality policy (R1-R6 per receivable, H0-H5 for the enterprise)
- red_flags.py: cash-flow red flags beside the checks (F1-F4: round trips, own or related money
  as debtor payments, same-day equal in and out, a burst before as-of)
- formatting.py: money as the reports write it
"""
