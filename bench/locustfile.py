"""The load mix of bench/load.py (locust): enterprises, bank officers and bureau coordinators at
work, each signed in with the session cookie bench/load.py prepared (second factor passed), plus
the trivial endpoint as the yardstick. Read by locust only; see bench/load.py for how to run it.

The users and the ids their pages open come from the JSON file named by LOAD_USERS.
"""

from __future__ import annotations

import json
import os
import random

from locust import FastHttpUser, between, task

USERS = json.loads(open(os.environ["LOAD_USERS"], encoding="utf-8").read())


class _Signed(FastHttpUser):
    abstract = True
    wait_time = between(0.05, 0.2)  # people click, machines do not: a short think time
    role = ""

    def on_start(self):
        self.me = random.choice(USERS[self.role])
        self.headers = {"Cookie": f"session={self.me['cookie']}"}

    def page(self, path: str, name: str | None = None):
        with self.client.get(path, headers=self.headers, name=name or path, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")


class Enterprise(_Signed):
    weight = 5
    role = "enterprise"

    @task(3)
    def requests(self):
        self.page("/financing/")

    @task(2)
    def one_request(self):
        if self.me["requests"]:
            self.page(f"/financing/{random.choice(self.me['requests'])}", name="/financing/<id>")

    @task(2)
    def receivables(self):
        self.page("/receivables/")

    @task(2)
    def market(self):
        self.page("/market")

    @task(1)
    def credit_file(self):
        self.page("/enterprise/credit-file")


class Officer(_Signed):
    weight = 4
    role = "officer"

    @task(4)
    def queue(self):
        self.page("/institution/requests/")

    @task(3)
    def review(self):
        if self.me["requests"]:
            self.page(f"/institution/requests/{random.choice(self.me['requests'])}", name="/institution/requests/<id>")

    @task(1)
    def leads(self):
        self.page("/institution/leads/")


class Coordinator(_Signed):
    weight = 1
    role = "coordinator"

    @task(2)
    def dashboard(self):
        self.page("/bureau/dashboard")

    @task(2)
    def stuck(self):
        self.page("/bureau/stuck")

    @task(1)
    def region_requests(self):
        self.page("/bureau/requests")


class Yardstick(FastHttpUser):
    weight = 1
    wait_time = between(0.05, 0.2)

    @task
    def healthz(self):
        self.client.get("/healthz", name="/healthz (trivial)")
