"""The finance bureau's oversight (design.md section 7): the regional dashboard, the stuck list,
dispatch meetings (调度会) with action items, exports and summary reports."""
