"""The working calendar the application counts SLA clocks, claims, reminders and due days with."""
