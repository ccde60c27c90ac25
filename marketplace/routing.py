"""URL rules whose URL builders are compiled on first use (start-up, issue 15).

Werkzeug compiles two Python functions per rule (url_for with and without extra arguments) the
moment the rule is added: for the app's ~220 rules about a tenth of create_app(). A process that
never builds a given URL (a CLI command, a worker that sends one kind of mail) need not pay for
it; here each builder is compiled by the first url_for that needs it, then kept on the rule.
Matching a request is untouched (that is the rule's regular expression, still made at once).
"""

from __future__ import annotations

from werkzeug.routing import Rule


class LazyBuilderRule(Rule):
    def _compile_builder(self, append_unknown: bool = True):
        compile_builder = super()._compile_builder
        attribute = "_build_unknown" if append_unknown else "_build"

        def build(rule: Rule, **values):  # bound to the rule by Rule.compile(); replaces itself
            real = compile_builder(append_unknown).__get__(rule, None)
            setattr(rule, attribute, real)
            return real(**values)

        return build
