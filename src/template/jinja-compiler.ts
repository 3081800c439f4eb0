/** Compiling: generated code calls Python-semantics runtime helpers instead of JS operators. */
import type { BinOp } from './pytypes.js';
import {
  OUR_NODES,
  PyGetattr,
  PyIterNode,
  PyLoopFilter,
  PyRaw,
  PySliceNode,
  PyTruth,
  isNode,
  nj,
  nodes,
} from './jinja-nunjucks.js';
import type { NjFrame, NjNode, NjNodeClass } from './jinja-nunjucks.js';

export class PyCompiler extends nj.compiler.Compiler {
  override assertType(node: NjNode, ...types: NjNodeClass[]): void {
    if (OUR_NODES.some((c) => isNode(node, c))) return;
    super.assertType(node, ...types);
  }

  override _getNodeName(node: NjNode): string {
    if (isNode(node, PyGetattr)) return `${this._getNodeName(node.target as NjNode)}.${String((node.val as NjNode).value)}`;
    if (node.typename === 'LookupVal' && isNode(node.val, PySliceNode)) return `${this._getNodeName(node.target as NjNode)}[...]`;
    return super._getNodeName(node);
  }

  /** Emit `runtime.<fn>(a, b, ...)` with each argument a compiled node, raw code, or null. */
  emitCall(fn: string, args: (NjNode | string | null)[], frame: NjFrame): void {
    this._emit(`runtime.${fn}(`);
    args.forEach((a, i) => {
      if (i) this._emit(', ');
      if (a === null) this._emit('null');
      else if (typeof a === 'string') this._emit(a);
      else this.compile(a, frame);
    });
    this._emit(')');
  }

  binop(op: BinOp, node: NjNode, frame: NjFrame): void {
    this.emitCall('pyBinop', [JSON.stringify(op), node.left as NjNode, node.right as NjNode], frame);
  }

  compilePyGetattr(node: NjNode, frame: NjFrame): void {
    this.emitCall('pyGetattr', [node.target as NjNode, JSON.stringify((node.val as NjNode).value)], frame);
  }
  compileLookupVal(node: NjNode, frame: NjFrame): void {
    const val = node.val as NjNode;
    if (isNode(val, PySliceNode)) {
      this.emitCall(
        'pySlice',
        [node.target as NjNode, val.start as NjNode | null, val.stop as NjNode | null, val.step as NjNode | null],
        frame,
      );
    } else {
      this.emitCall('pyGetitem', [node.target as NjNode, val], frame);
    }
  }
  compilePySlice(node: NjNode): void {
    this.fail('a slice can only be used as a subscript', node.lineno, node.colno);
  }

  compileAdd(node: NjNode, frame: NjFrame): void {
    this.binop('add', node, frame);
  }
  compileSub(node: NjNode, frame: NjFrame): void {
    this.binop('sub', node, frame);
  }
  compileMul(node: NjNode, frame: NjFrame): void {
    this.binop('mul', node, frame);
  }
  compileDiv(node: NjNode, frame: NjFrame): void {
    this.binop('truediv', node, frame);
  }
  compileFloorDiv(node: NjNode, frame: NjFrame): void {
    this.binop('floordiv', node, frame);
  }
  compileMod(node: NjNode, frame: NjFrame): void {
    this.binop('mod', node, frame);
  }
  compilePow(node: NjNode, frame: NjFrame): void {
    this.binop('pow', node, frame);
  }
  compileConcat(node: NjNode, frame: NjFrame): void {
    this.emitCall('pyConcat', [node.left as NjNode, node.right as NjNode], frame);
  }
  compileNeg(node: NjNode, frame: NjFrame): void {
    this.emitCall('pyNeg', [node.target as NjNode], frame);
  }
  compilePos(node: NjNode, frame: NjFrame): void {
    this.emitCall('pyPos', [node.target as NjNode], frame);
  }
  /** env.getTest(name).call(context, value, ...args) === true, with comma-separated args. */
  compileIs(node: NjNode, frame: NjFrame): void {
    const right = node.right as NjNode;
    const call = isNode(right, nodes.FunCall);
    const name = String((call ? (right.name as NjNode) : right).value);
    this._emit(`env.getTest(${JSON.stringify(name)}).call(context, `);
    this.compile(node.left as NjNode, frame);
    for (const arg of call ? ((right.args as NjNode).children as NjNode[]) : []) {
      this._emit(', ');
      this.compile(arg, frame);
    }
    this._emit(') === true');
  }
  compileIn(node: NjNode, frame: NjFrame): void {
    this.emitCall('pyIn', [node.left as NjNode, node.right as NjNode], frame);
  }

  /** `a < b <= c` → runtime.pyCompareChain(a, ["<", b, "<=", c]). */
  compileCompare(node: NjNode, frame: NjFrame): void {
    this._emit('runtime.pyCompareChain(');
    this.compile(node.expr as NjNode, frame);
    this._emit(', [');
    (node.ops as NjNode[]).forEach((op, i) => {
      this._emit(`${i ? ', ' : ''}${JSON.stringify(op.type)}, `);
      this.compile(op.expr as NjNode, frame);
    });
    this._emit('])');
  }

  /** `and` / `or` short-circuit on Python truthiness and return an operand, as in Python. */
  compileOr(node: NjNode, frame: NjFrame): void {
    this.shortCircuit('pyOr', node, frame);
  }
  compileAnd(node: NjNode, frame: NjFrame): void {
    this.shortCircuit('pyAnd', node, frame);
  }
  shortCircuit(fn: string, node: NjNode, frame: NjFrame): void {
    this._emit(`runtime.${fn}(`);
    this.compile(node.left as NjNode, frame);
    this._emit(', function() { return ');
    this.compile(node.right as NjNode, frame);
    this._emit('; })');
  }
  compileNot(node: NjNode, frame: NjFrame): void {
    this._emit('!');
    this.emitCall('pyBool', [node.target as NjNode], frame);
  }
  compileInlineIf(node: NjNode, frame: NjFrame): void {
    this._emit('(');
    this.emitCall('pyBool', [node.cond as NjNode], frame);
    this._emit(' ? ');
    this.compile(node.body as NjNode, frame);
    this._emit(' : ');
    if (node.else_) this.compile(node.else_ as NjNode, frame);
    else this._emit('undefined');
    this._emit(')');
  }
  compilePyFloatLiteral(node: NjNode): void {
    this._emit(`runtime.pyFloat(${String(node.value)})`);
  }
  compilePyRaw(node: NjNode): void {
    this._emit(String(node.code));
  }
  compilePyTruth(node: NjNode, frame: NjFrame): void {
    this.emitCall('pyBool', [node.target as NjNode], frame);
  }
  override compileIf(node: NjNode, frame: NjFrame, async?: boolean): void {
    const cond = node.cond as NjNode;
    if (!isNode(cond, PyTruth)) node.cond = new PyTruth(cond.lineno, cond.colno, cond);
    super.compileIf(node, frame, async);
  }

  /** `for x in d` iterates dict keys / string characters; `for k, v in ...` is left to nunjucks. */
  compilePyIter(node: NjNode, frame: NjFrame): void {
    this.emitCall('pyIter', [node.target as NjNode], frame);
  }
  override compileFor(node: NjNode, frame: NjFrame): void {
    let arr = node.arr as NjNode;
    // nunjucks reads `for x in seq if cond` as an inline-if without else; Jinja means a filter.
    if (arr.typename === 'InlineIf' && !arr.else_) {
      const names = isNode(node.name, nodes.Array)
        ? ((node.name as NjNode).children as NjNode[]).map((c) => String(c.value))
        : [String((node.name as NjNode).value)];
      arr = node.arr = new PyLoopFilter(arr.lineno, arr.colno, arr.body, arr.cond, names);
    }
    if (!isNode(node.name, nodes.Array) && !isNode(arr, PyIterNode)) node.arr = new PyIterNode(arr.lineno, arr.colno, arr);
    super.compileFor(node, frame);
  }

  /** runtime.pyLoopFilter(seq, frame, names, function(frame) { return cond; }) */
  compilePyLoopFilter(node: NjNode, frame: NjFrame): void {
    const names = node.names as string[];
    this._emit('runtime.pyLoopFilter(');
    this.compile(node.seq as NjNode, frame);
    this._emit(`, frame, ${JSON.stringify(names)}, function(frame) { return `);
    const inner = frame.push();
    for (const n of names) inner.set(n, `frame.lookup(${JSON.stringify(n)})`);
    this.compile(node.cond as NjNode, inner);
    this._emit('; })');
  }

  /** Adds loop.cycle / previtem / nextitem to nunjucks's loop variables, and counts the iteration. */
  override _emitLoopBindings(node: NjNode, arr: string, i: string, len: string): void {
    this._emitLine(`runtime.pyLoopIteration(${this.buffer}.length);`);
    super._emitLoopBindings(node, arr, i, len);
    this._emitLine(`runtime.pyLoopExtras(frame, ${arr}, ${i}, ${len});`);
  }

  /** A parenthesised list of several expressions is a Python tuple. */
  compileGroup(node: NjNode, frame: NjFrame): void {
    const children = node.children as NjNode[];
    if (children.length === 1) {
      this._emit('(');
      this.compile(children[0]!, frame);
      this._emit(')');
      return;
    }
    this._emit('runtime.pyTuple([');
    children.forEach((c, i) => {
      if (i) this._emit(', ');
      this.compile(c, frame);
    });
    this._emit('])');
  }

  override compileSet(node: NjNode, frame: NjFrame): void {
    const targets = node.targets as NjNode[];
    for (const t of targets) {
      if (!isNode(t, nodes.Symbol))
        this.fail('only plain names can be assigned with {% set %} (namespace attributes are not supported)', t.lineno, t.colno);
    }
    if (targets.length < 2 || !node.value) {
      super.compileSet(node, frame);
      return;
    }
    // `{% set a, b = pair %}` unpacks (nunjucks would assign the pair to both names).
    const tmp = this._tmpid();
    this._emit(`var ${tmp} = runtime.pyUnpack(`);
    this.compile(node.value as NjNode, frame);
    this._emitLine(`, ${targets.length});`);
    targets.forEach((t, i) =>
      super.compileSet(new nodes.Set(node.lineno, node.colno, [t], new PyRaw(t.lineno, t.colno, `${tmp}[${i}]`)), frame),
    );
  }
}
