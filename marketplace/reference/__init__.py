"""Names of the Chinese standards' codes (GB/T 4754 industries, GB/T 2260 regions) for the pages:
the data and the rules live in workflows.industries and workflows.regions; these modules name
codes in the page's language unless told another, and read codes or names people type."""
