"""Each request's stays in each state, kept from the request's transition events (a listener of
marketplace.events.request_transitioned); the dashboard's turnaround figures read them."""
