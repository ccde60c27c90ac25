"""Transition-table machinery: explicit (from, to, who, guard) rows, checked before any change.

Pure: subjects and actors are plain objects. A guard looks at the subject's attributes and
returns a Reason when the transition is not allowed, or None when it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Reason:
    """Why something is not allowed, in words the user can act on."""

    code: str
    zh: str
    en: str

    def text(self, locale: str = "zh") -> str:
        return self.en if locale.startswith("en") else self.zh


class Actor(Protocol):
    kind: str  # organisation kind: enterprise, bank, guarantor, bureau, platform, system
    role: str  # e.g. officer, approver, applicant, admin


@dataclass(frozen=True)
class ActorRef:
    """A plain actor: an organisation kind and a role within it."""

    kind: str
    role: str


SYSTEM = ActorRef("system", "system")  # the platform itself acting (tasks, timers)


Guard = Callable[[Any], Reason | None]


@dataclass(frozen=True)
class Transition:
    """One row of a transition table."""

    name: str
    sources: frozenset[str]
    target: str
    actors: frozenset[str]  # "kind" or "kind:role"
    guards: tuple[Guard, ...] = ()
    label_zh: str = ""
    label_en: str = ""

    def allows_actor(self, actor: Actor) -> bool:
        return actor.kind in self.actors or f"{actor.kind}:{actor.role}" in self.actors

    def blocking_reasons(self, subject: Any) -> list[Reason]:
        return [reason for guard in self.guards if (reason := guard(subject)) is not None]


class TransitionError(Exception):
    """A transition was asked for that the table does not allow now, with every reason."""

    def __init__(self, transition: str, reasons: list[Reason]):
        self.transition = transition
        self.reasons = reasons
        super().__init__(f"{transition}: " + "; ".join(r.en for r in reasons))

    def text(self, locale: str = "zh") -> str:
        return "；".join(r.text(locale) for r in self.reasons)


@dataclass
class StateMachine:
    """A set of states and the transitions between them."""

    states: frozenset[str]
    transitions: dict[str, Transition] = field(default_factory=dict)

    @classmethod
    def build(cls, states: Iterable[str], transitions: Iterable[Transition]) -> StateMachine:
        machine = cls(frozenset(states))
        for transition in transitions:
            if transition.name in machine.transitions:
                raise ValueError(f"duplicate transition {transition.name}")
            unknown = (transition.sources | {transition.target}) - machine.states
            if unknown:
                raise ValueError(f"{transition.name} names unknown states {sorted(unknown)}")
            machine.transitions[transition.name] = transition
        return machine

    def get(self, name: str) -> Transition:
        try:
            return self.transitions[name]
        except KeyError:
            raise TransitionError(name, [_reason_unknown(name)]) from None

    def check(self, name: str, subject: Any, actor: Actor) -> Transition:
        """Return the transition if `actor` may apply it to `subject` now; else raise."""
        transition = self.get(name)
        if subject.state not in transition.sources:
            raise TransitionError(name, [_reason_state(transition, subject.state)])
        if not transition.allows_actor(actor):
            raise TransitionError(name, [_reason_actor(transition, actor)])
        reasons = transition.blocking_reasons(subject)
        if reasons:
            raise TransitionError(name, reasons)
        return transition

    def available(self, subject: Any, actor: Actor) -> list[Transition]:
        """Transitions `actor` could apply now (guards included), in table order."""
        return [
            t
            for t in self.transitions.values()
            if subject.state in t.sources and t.allows_actor(actor) and not t.blocking_reasons(subject)
        ]

    def from_state(self, state: str) -> list[Transition]:
        return [t for t in self.transitions.values() if state in t.sources]


def _reason_unknown(name: str) -> Reason:
    return Reason("unknown_transition", f"未知的操作：{name}", f"Unknown action: {name}")


def _reason_state(transition: Transition, state: str) -> Reason:
    return Reason(
        "wrong_state",
        f"当前状态（{state}）不能执行“{transition.label_zh or transition.name}”",
        f"'{transition.label_en or transition.name}' is not possible in state {state}",
    )


def _reason_actor(transition: Transition, actor: Actor) -> Reason:
    return Reason(
        "wrong_actor",
        f"您的角色不能执行“{transition.label_zh or transition.name}”",
        f"Your role ({actor.kind}:{actor.role}) may not '{transition.label_en or transition.name}'",
    )
