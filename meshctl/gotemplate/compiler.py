"""Compile a gotpl template to Python source: the same output, without gotpl's evaluator.

gotpl runs a template as a small instruction machine; for Istio's sidecar template that is most
of meshctl's per-pod cost. This module takes the tree gotpl's own parser builds for a
:class:`gotpl.Template` and turns every template and ``define`` into one Python function that
appends strings to a list. It reuses gotpl's pieces wherever they define behaviour (field lookup
and truth: ``ValueAdapter``; printing: ``format_value``; ``range`` order: ``_range_entries``;
numbers; argument checks: the prepared function registry), so the compiled code differs from
gotpl's evaluator in speed only.

Anything whose gotpl behaviour the compiler does not reproduce exactly raises
:class:`Unsupported` at compile time (the caller keeps gotpl for that template). At render
time :class:`~meshctl.gotemplate.fast.FastTemplate` falls back to gotpl whenever the compiled
code raises: errors (and their messages) always come from gotpl, and an unforeseen difference
can only cost time, never give a wrong result. Not supported: sandboxes, budgets,
``missingkey`` and format modes other than the defaults, context functions,
``break``/``continue`` nested inside an ``if``/``with`` (gotpl leaks scopes there), and a
variable read in a ``range`` body before its redeclaration in the same
body (gotpl keeps the previous iteration's value).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import gotpl
from gotpl.parse.nodes import (
    ActionNode,
    BlockNode,
    BoolNode,
    BreakNode,
    CharacterNode,
    CommandNode,
    ComplexNode,
    ContinueNode,
    DotNode,
    FieldNode,
    IdentifierNode,
    IfNode,
    ListNode,
    NilNode,
    NumberNode,
    ParenthesizedNode,
    PipeNode,
    RangeNode,
    StringNode,
    TemplateCallNode,
    TextNode,
    VariableNode,
    WithNode,
)
from gotpl.parse.parser import parse_template
from gotpl.runtime.callables import (
    PreparedFunctionRegistry,
)
from gotpl.runtime.context import ContextFunction
from gotpl.runtime.values import (
    number_value,
)

from meshctl.gotemplate import gotpl_runtime, limits
from meshctl.records import Frozen

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it is start-up cost
    from typing import Any

__all__ = ["CompiledTemplate", "Unsupported", "compile_template"]


class Unsupported(Exception):
    """The template uses something the compiler does not reproduce exactly: keep gotpl."""


class _Scope:
    __slots__ = ("names", "depth")

    def __init__(self, names: dict[str, str] | None = None, depth: int = 0) -> None:
        self.names: dict[str, str] = {} if names is None else names
        self.depth = depth


class _Ref(Frozen):
    __slots__ = ("name", "depth")

    name: str
    depth: int  # depth of the scope the reference resolved to (-1: none / root)


class _FunctionCompiler:
    """Python source for one template body."""

    def __init__(self, unit: _Unit) -> None:
        self.unit = unit
        self.lines: list[str] = []
        self.indent = 1
        self.scopes: list[_Scope] = [_Scope(depth=0)]
        self.refs: list[_Ref] = []
        self.counter = 0
        self.loop_depth: list[int] = []  # scope depth of each enclosing range body

    # --- emission helpers
    def emit(self, line: str) -> None:
        self.lines.append("    " * self.indent + line)

    def temp(self, prefix: str = "t") -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    # --- variables
    def resolve(self, name: str) -> str | None:
        for scope in reversed(self.scopes):
            if name in scope.names:
                self.refs.append(_Ref(name, scope.depth))
                return scope.names[name]
        self.refs.append(_Ref(name, -1))
        return None

    def read_var(self, name: str) -> str:
        var = self.resolve(name)
        if var is not None:
            return var
        return "root" if name == "$" else "INVALID"

    def bind(self, pipe: PipeNode, value: str) -> None:
        for decl in pipe.declarations:
            self.bind_one(decl.name, value, assignment=pipe.is_assignment)

    def bind_one(self, name: str, value: str, *, assignment: bool) -> None:
        if assignment:
            var = self.resolve(name)
            if var is None:
                if name == "$":
                    self.emit(f"root = {value}")
                else:
                    self.emit(f"_fail({('undefined variable ' + repr(name))!r})")
                return
            self.emit(f"{var} = {value}")
            return
        scope = self.scopes[-1]
        var = scope.names.get(name)
        if var is None:
            var = scope.names[name] = self.temp("v")
        self.emit(f"{var} = {value}")

    def push_scope(self) -> _Scope:
        scope = _Scope(depth=len(self.scopes))
        self.scopes.append(scope)
        return scope

    # --- templates
    def compile_list(self, nodes: ListNode, dot: str) -> None:
        for node in nodes.nodes:
            self.compile_node(node, dot)

    def compile_node(self, node: Any, dot: str) -> None:
        if isinstance(node, TextNode):
            if node.text:
                self.emit(f"_w({node.text!r})")
        elif isinstance(node, ActionNode):
            pipe = node.pipeline
            if pipe.declarations:
                value = self.pipeline(pipe, dot)
                self.bind(pipe, value)
            elif (len(pipe.commands) == 1 and len(pipe.commands[0].arguments) == 1
                  and isinstance(pipe.commands[0].arguments[0], DotNode)):
                self.emit(f"_w(_fmt({dot}))")
            else:
                value = self.pipeline(pipe, dot)
                self.emit(f"_w(_fmt({value}))")
        elif isinstance(node, IfNode):
            self.compile_if(node, dot)
        elif isinstance(node, WithNode):
            self.compile_with(node, dot)
        elif isinstance(node, RangeNode):
            self.compile_range(node, dot)
        elif isinstance(node, (BreakNode, ContinueNode)):
            if not self.loop_depth or self.loop_depth[-1] != len(self.scopes) - 1:
                raise Unsupported("break/continue inside if/with (gotpl leaks scopes)")
            self.emit("break" if isinstance(node, BreakNode) else "continue")
        elif isinstance(node, (TemplateCallNode, BlockNode)):
            self.compile_call(node.name, node.pipeline, dot)
        else:
            raise Unsupported(f"node {type(node).__name__}")

    def compile_if(self, node: IfNode, dot: str) -> None:
        scope = self.push_scope()
        value = self.pipeline(node.pipeline, dot)
        self.bind(node.pipeline, value)
        after_pipe = dict(scope.names)
        self.emit(f"if _truth({value}):")
        self.block(node.body, dot)
        if node.else_body is not None and node.else_body.nodes:
            scope.names = dict(after_pipe)
            self.emit("else:")
            self.block(node.else_body, dot)
        self.scopes.pop()

    def compile_with(self, node: WithNode, dot: str) -> None:
        scope = self.push_scope()
        value = self.pipeline(node.pipeline, dot)
        self.bind(node.pipeline, value)
        after_pipe = dict(scope.names)
        inner = self.temp("d")
        self.emit(f"{inner} = {value}")
        self.emit(f"if _truth({inner}):")
        self.block(node.body, inner)
        if node.else_body is not None and node.else_body.nodes:
            scope.names = dict(after_pipe)
            self.emit("else:")
            self.block(node.else_body, dot)
        self.scopes.pop()

    def compile_range(self, node: RangeNode, dot: str) -> None:
        scope = self.push_scope()
        pipe = node.pipeline
        value = self.pipeline(pipe, dot)  # bind=False: declarations are bound per item
        inner = self.temp("d")
        key = self.temp("k")
        empty = self.temp("e") if node.else_body is not None and node.else_body.nodes else None
        if empty:
            self.emit(f"{empty} = True")
        self.emit(f"for {key}, {inner} in _range({value}, {len(pipe.declarations)}):")
        self.indent += 1
        if empty:
            self.emit(f"{empty} = False")
        if len(pipe.declarations) == 1:
            self.bind_one(pipe.declarations[0].name, inner, assignment=pipe.is_assignment)
        elif len(pipe.declarations) == 2:
            self.bind_one(pipe.declarations[0].name, key, assignment=pipe.is_assignment)
            self.bind_one(pipe.declarations[1].name, inner, assignment=pipe.is_assignment)
        bound = set(scope.names)
        first_ref = len(self.refs)
        self.loop_depth.append(len(self.scopes) - 1)
        self.emit("pass")
        self.compile_list(node.body, inner)
        self.loop_depth.pop()
        self.indent -= 1
        # gotpl keeps one scope for all iterations: a name declared in the body is still set
        # when the next iteration reads it before redeclaring it; static resolution is not.
        body_decls = set(scope.names) - bound
        for ref in self.refs[first_ref:]:
            if ref.name in body_decls and ref.depth < scope.depth:
                raise Unsupported(f"variable {ref.name} read before its redeclaration in range")
        if empty:
            scope.names = {}  # no item was bound: the range's own variables are unset
            self.emit(f"if {empty}:")
            self.block(node.else_body, dot)  # type: ignore[arg-type]
        self.scopes.pop()

    def block(self, nodes: ListNode, dot: str) -> None:
        self.indent += 1
        self.emit("pass")
        self.compile_list(nodes, dot)
        self.indent -= 1

    def compile_call(self, name: str, pipe: PipeNode | None, dot: str) -> None:
        function = self.unit.template_function(name)
        call_dot = "None" if pipe is None else self.pipeline(pipe, dot)
        if function is None:
            self.emit(f"_fail({('template ' + repr(name) + ' is not defined')!r})")
        else:
            self.emit(f"{function}({call_dot}, out)")

    # --- pipelines (each returns a Python expression that is a local or a constant)
    def pipeline(self, pipe: PipeNode, dot: str) -> str:
        value = "INVALID"
        for index, command in enumerate(pipe.commands):
            value = self.command(command, dot, value if index else None)
        return value

    def command(self, command: CommandNode, dot: str, piped: str | None) -> str:
        if piped is not None and _is_constant(piped):
            return self._command(command, dot, piped, known=True)
        return self._command(command, dot, piped, known=False)

    def _command(self, command: CommandNode, dot: str, piped: str | None, *,
                 known: bool) -> str:
        """``known``: the piped value is a constant (never gotpl's "no value")."""
        args = command.arguments
        if not args:
            raise Unsupported("empty command")
        first = args[0]
        result = self.temp()
        if isinstance(first, IdentifierNode):
            name = first.name
            if name in self.unit.logical:
                self.logical(name, args[1:], dot, piped, result)
                return result
            values = [self.argument(a, dot) for a in args[1:]]
            if piped is None:
                self.emit(f"{result} = {self.call(name, values)}")
            elif known:
                self.emit(f"{result} = {self.call(name, [*values, piped])}")
            else:
                self.emit(f"if {piped} is INVALID:")
                self.emit(f"    {result} = {self.call(name, values)}")
                self.emit("else:")
                self.emit(f"    {result} = {self.call(name, [*values, piped])}")
            self.emit(f"if {result}.__class__ not in _PLAIN: {result} = _res({result})")
            return result
        head = self.operand(first, dot, method_last=len(args) == 1 and piped is None)
        if len(args) == 1 and piped is None:
            if isinstance(first, (FieldNode, VariableNode, ParenthesizedNode)) and first.fields:
                return head  # the last lookup already called a bound method (_lookm)
            if isinstance(first, (StringNode, NumberNode, BoolNode, NilNode, CharacterNode,
                                  ComplexNode)):
                return head
            self.emit(f"{result} = _arg({head})")
            return result
        values = [self.argument(a, dot) for a in args[1:]]
        listed = "[" + ", ".join(values) + "]"
        if piped is None:
            self.emit(f"{result} = _value_command({head}, {listed})")
        elif known:
            self.emit(f"{result} = _value_command({head}, [{', '.join([*values, piped])}])")
        else:
            piped_list = "[" + ", ".join([*values, piped]) + "]"
            self.emit(f"{result} = _value_command({head}, {listed} if {piped} is INVALID "
                      f"else {piped_list})")
        return result

    def call(self, name: str, values: list[str]) -> str:
        """The call of registered function ``name`` with argument expressions ``values``."""
        registry = self.unit.registry
        function = registry.get(name)
        if function is None:
            return f"_fail({('function ' + repr(name) + ' is not defined')!r})"
        if isinstance(function, ContextFunction):
            raise Unsupported(f"context function {name}")
        spec = registry.call_specs.get(name)
        native = self.unit.native
        if native is not None:
            function = native.get(name)
            if function is None:
                raise Unsupported(f"no native implementation of {name}")
        ref = self.unit.constant(function)
        joined = ", ".join(values)
        if spec is not None and spec.requires_validation:
            if spec.arity_error(name, len(values)) is not None:
                return f"_fail({spec.arity_error(name, len(values))!r})"
            if spec.requires_type_validation and native is None:
                spec_ref = self.unit.constant(spec)
                return f"_checked({name!r}, {ref}, {spec_ref}, [{joined}])"
        return f"{ref}({joined})"

    def logical(self, name: str, operands: tuple[Any, ...], dot: str, piped: str | None,
                result: str) -> None:
        """gotpl's ``and``/``or``: operands unevaluated past the deciding one, piped last."""
        if not operands:
            if piped is None:
                message = f"function {name!r} requires an argument"
                self.emit(f"{result} = _fail({message!r})")
            else:
                self.emit(f"{result} = {piped}")
            return
        test = "_truth" if name == "and" else "not _truth"
        opened = 0
        for index, operand in enumerate(operands):
            value = self.operand(operand, dot, method_last=False)
            self.emit(f"{result} = {value}")
            if index < len(operands) - 1 or piped is not None:
                self.emit(f"if {test}({result}):")
                self.indent += 1
                opened += 1
        if piped is not None and _is_constant(piped):
            self.emit(f"{result} = {piped}")
        elif piped is not None:
            self.emit(f"if {piped} is not INVALID: {result} = {piped}")
        self.indent -= opened

    def argument(self, node: Any, dot: str) -> str:
        """``_evaluate_argument``: the operand, a bound method called."""
        value = self.operand(node, dot, method_last=True)
        if isinstance(node, (FieldNode, VariableNode, ParenthesizedNode)) and node.fields:
            return value
        if isinstance(node, (StringNode, NumberNode, BoolNode, NilNode, CharacterNode,
                             ComplexNode)):
            return value
        temp = self.temp()
        self.emit(f"{temp} = _arg({value})")
        return temp

    def operand(self, node: Any, dot: str, *, method_last: bool) -> str:
        """``_evaluate_operand`` (with ``method_last``: the last lookup calls a method)."""
        if isinstance(node, DotNode):
            return dot
        if isinstance(node, NilNode):
            return "UNTYPED_NIL"
        if isinstance(node, BoolNode):
            return "True" if node.value else "False"
        if isinstance(node, (NumberNode, ComplexNode)):
            try:
                number = number_value(node.text, is_complex=isinstance(node, ComplexNode))
            except (ValueError, TypeError) as exc:
                raise Unsupported(f"number {node.text}") from exc
            return self.unit.constant(number)
        if isinstance(node, StringNode):
            return repr(node.value)
        if isinstance(node, CharacterNode):
            return self.unit.constant(ord(node.value))
        if isinstance(node, FieldNode):
            return self.chain(dot, node.fields, method_last)
        if isinstance(node, VariableNode):
            return self.chain(self.read_var(node.name), node.fields, method_last)
        if isinstance(node, ParenthesizedNode):
            if node.pipeline.declarations:
                raise Unsupported("declaration in parenthesized pipeline")
            return self.chain(self.pipeline(node.pipeline, dot), node.fields, method_last)
        if isinstance(node, IdentifierNode):
            if node.name in self.unit.logical:
                return f"_fail({('function ' + repr(node.name) + ' is not defined')!r})"
            temp = self.temp()
            self.emit(f"{temp} = {self.call(node.name, [])}")
            self.emit(f"if {temp}.__class__ not in _PLAIN: {temp} = _res({temp})")
            return temp
        raise Unsupported(f"operand {type(node).__name__}")

    def chain(self, base: str, fields: tuple[str, ...], method_last: bool) -> str:
        if not fields:
            return base
        if len(fields) == 1:
            expr = f"{'_lookm' if method_last else '_look'}({base}, {fields[0]!r})"
        else:
            expr = f"{'_chain' if method_last else '_chain_raw'}({base}, {fields!r})"
        temp = self.temp()
        self.emit(f"{temp} = {expr}")
        return temp


def _is_constant(expr: str) -> bool:
    """A literal the generated code inlines (a string, a bool, nil, a constant slot)."""
    return expr[:1] in ("'", '"') or expr in ("True", "False", "UNTYPED_NIL") or (
        expr[:1] == "K" and expr[1:].isdigit())


class _Unit:
    """Everything one template's generated module shares: constants, template functions."""

    def __init__(self, registry: PreparedFunctionRegistry, names: list[str],
                 native: Mapping[str, Callable[..., Any]] | None = None) -> None:
        self.registry = registry
        self.native = native
        self.logical = frozenset(n for n in ("and", "or") if n not in registry)
        self.constants: dict[str, Any] = {}
        self._ids: dict[int, str] = {}
        self.templates = {name: f"T{i}" for i, name in enumerate(names)}

    def constant(self, value: Any) -> str:
        key = id(value)
        name = self._ids.get(key)
        if name is None or self.constants[name] is not value:
            name = f"K{len(self.constants)}"
            self.constants[name] = value
            self._ids[key] = name
        return name

    def template_function(self, name: str) -> str | None:
        return self.templates.get(name)


class CompiledTemplate(Frozen):
    """The Python functions of one gotpl template (and its ``define``s).

    ``bytecode`` (the compiled module), ``constants`` (objects the code refers to by name) and
    ``entry`` (the top-level function's name) are what the persistent cache stores.
    """

    __slots__ = ("name", "code", "_entry", "bytecode", "constants", "entry")

    name: str
    code: str
    _entry: Callable[[Any, list[str]], None]
    bytecode: Any
    constants: dict[str, Any]
    entry: str

    def render(self, data: Any) -> str:
        out: list[str] = []
        limits.start_render()
        self._entry(data, out)
        return limits.check_output("".join(out))


def compile_template(template: gotpl.Template, *,
                     native: Mapping[str, Callable[..., Any]] | None = None) -> CompiledTemplate:
    """Compile ``template`` (already parsed and checked by gotpl) to Python.

    ``native``: the function table of the gotpl-free runtime (:mod:`meshctl.gotemplate.native`,
    :func:`~meshctl.gotemplate.native.function_table`); every function the template calls must
    have an implementation there. Raises :class:`Unsupported` when the
    template's options or constructs are not reproduced.
    """
    if template.sandbox is not None:
        raise Unsupported("sandbox")
    # a budget is kept by the generated code as meshctl.gotemplate.limits says (gotpl renders
    # again, with its budget, whenever the compiled form stops)
    if template.missing_key != "default" or template.format_mode != "go":
        raise Unsupported("missing_key/format_mode option")
    if template.extensions.function_map():
        raise Unsupported("python extensions")
    registry = template._runtime_functions  # noqa: SLF001 - the registry gotpl renders with
    parsed = parse_template(template.source, name=template.name,
                            left_delimiter=template.delimiters[0],
                            right_delimiter=template.delimiters[1], functions=registry)
    bodies: dict[str, ListNode] = {d.name: d.body for d in parsed.definitions}
    bodies[parsed.name] = parsed.root
    if native is not None:
        from meshctl.gotemplate import native as native_runtime

        helpers, unit = native_runtime.HELPERS, _Unit(registry, list(bodies), native)
    else:
        helpers, unit = gotpl_runtime.HELPERS, _Unit(registry, list(bodies))
    lines: list[str] = []
    for name, body in bodies.items():
        fc = _FunctionCompiler(unit)
        fc.emit("_w = out.append")
        fc.emit("root = d0")
        fc.compile_list(body, "d0")
        lines.append(f"def {unit.templates[name]}(d0, out):  # {name!r}")
        lines.extend(fc.lines)
        lines.append("")
    code = "\n".join(lines)
    namespace: dict[str, Any] = {**helpers, **unit.constants}
    bytecode = compile(code, f"<gotpl {template.name}>", "exec")
    exec(bytecode, namespace)  # noqa: S102
    entry = unit.templates[parsed.name]
    return CompiledTemplate(template.name, code, namespace[entry], bytecode=bytecode,
                            constants=dict(unit.constants), entry=entry)
