"""Fees an enterprise owes an institution (guarantee fee, service fee): paid through Stripe
(a CNY PaymentIntent; card, Alipay, WeChat Pay) when its keys are configured, otherwise by a
bank transfer that the payee's staff confirm. Other packages register what happens once a fee
is paid with `marketplace.payments.hooks.on_paid(purpose)`."""
