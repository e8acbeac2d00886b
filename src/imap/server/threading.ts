/**
 * The two threading algorithms of RFC 5256 §3 over the searched messages of a folder, from the keys the
 * mailstore stored at delivery (normalized Message-ID and references, folded base subject, sent date):
 * nothing is parsed per command. Iterative throughout: a chain of 100,000 replies must not overflow
 * the stack.
 */

export interface ThreadMessage {
  seq: number;
  uid: number;
  /** Normalized Message-ID, null without a valid one. */
  messageId: string | null;
  /** Normalized references, oldest first (RFC 5256 §3: References, else In-Reply-To). */
  references: readonly string[];
  /** Folded base subject (RFC 5256 §2.1). */
  subject: string;
  /** The subject had a reply or forward marker. */
  isReply: boolean;
  /** RFC 5256 §2.2 sent date, internal date when it has none. */
  sentDate: number;
}

/** A node of a thread tree; without `message` it is a dummy (RFC 5256 §3 step 1.A). */
export interface ThreadNode {
  message?: ThreadMessage;
  parent?: ThreadNode;
  children: ThreadNode[];
}

/** The message that stands for a node in date order: its own, or a dummy's first child's. */
function representative(node: ThreadNode): ThreadMessage | undefined {
  return node.message ?? node.children[0]?.message;
}

/** RFC 5256 §2.2: sent date, then mailbox order. */
function compareByDate(a: ThreadNode, b: ThreadNode): number {
  const x = representative(a);
  const y = representative(b);
  if (!x || !y) return x ? -1 : y ? 1 : 0;
  return x.sentDate - y.sentDate || x.seq - y.seq;
}

/** Every node under `roots`, each before its descendants. */
function preorder(roots: readonly ThreadNode[]): ThreadNode[] {
  const out: ThreadNode[] = [];
  const stack = [...roots].reverse();
  while (stack.length > 0) {
    const node = stack.pop() as ThreadNode;
    out.push(node);
    for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i] as ThreadNode);
  }
  return out;
}

/** Whether `ancestor` is `node` or one of its ancestors. */
function isAncestorOrSelf(ancestor: ThreadNode, node: ThreadNode): boolean {
  for (let n: ThreadNode | undefined = node; n; n = n.parent) if (n === ancestor) return true;
  return false;
}

function unlink(node: ThreadNode): void {
  const parent = node.parent;
  if (!parent) return;
  const i = parent.children.indexOf(node);
  if (i >= 0) parent.children.splice(i, 1);
  node.parent = undefined;
}

/** Makes `parent` the parent of `child` unless that would make a loop (RFC 5256 §3 step 1.A). */
function link(parent: ThreadNode, child: ThreadNode): void {
  // Only a node with children can be an ancestor of another: most links skip the walk up (a chain of replies stays linear).
  if (parent === child || (child.children.length > 0 && isAncestorOrSelf(child, parent))) return;
  child.parent = parent;
  parent.children.push(child);
}

/** Step 3 for one list of siblings whose own children are pruned already. */
function pruneSiblings(list: ThreadNode[], parent: ThreadNode | undefined): ThreadNode[] {
  const out: ThreadNode[] = [];
  for (const node of list) {
    if (node.message) {
      out.push(node);
      continue;
    }
    if (node.children.length === 0) continue;
    // A dummy's children move up, except to the root when there are several of them.
    if (parent || node.children.length === 1) {
      for (const child of node.children) {
        child.parent = parent;
        out.push(child);
      }
    } else out.push(node);
  }
  return out;
}

/** RFC 5256 §3 REFERENCES, steps (1) to (6). `messages` in mailbox order. */
export function threadByReferences(messages: readonly ThreadMessage[]): ThreadNode[] {
  // (1) Containers by Message ID; dummies for ids no searched message has.
  const byId = new Map<string, ThreadNode>();
  const nodeOf = (id: string): ThreadNode => {
    let node = byId.get(id);
    if (!node) {
      node = { children: [] };
      byId.set(id, node);
    }
    return node;
  };
  const all: ThreadNode[] = [];
  for (const message of messages) {
    // No id, or one an earlier message has: a unique id of its own.
    let node = message.messageId === null ? undefined : nodeOf(message.messageId);
    if (!node || node.message) node = { children: [] };
    node.message = message;
    all.push(node);
    // (1.A) Each reference the parent of the next, unless it has one already.
    let previous: ThreadNode | undefined;
    for (const id of message.references) {
      const ref = nodeOf(id);
      if (previous && !ref.parent && ref !== previous) link(previous, ref);
      previous = ref;
    }
    // (1.B) The last reference is the parent, replacing a link a truncated References made.
    unlink(node);
    if (previous && previous !== node) link(previous, node);
  }
  for (const node of byId.values()) if (!node.message) all.push(node);

  // (2) The roots: nodes without a parent.
  let roots = all.filter((node) => !node.parent);
  // (3) Dummies pruned, children before parents.
  for (const node of preorder(roots).reverse()) node.children = pruneSiblings(node.children, node);
  roots = pruneSiblings(roots, undefined);
  // (4) Roots by date; a dummy by its earliest child.
  for (const root of roots) if (!root.message) root.children.sort(compareByDate);
  roots.sort(compareByDate);
  // (5) Roots gathered by base subject.
  roots = mergeBySubject(roots);
  // (6) Every set of siblings by date, the deepest first.
  for (const node of preorder(roots).reverse()) node.children.sort(compareByDate);
  roots.sort(compareByDate);
  return roots;
}

function threadSubject(node: ThreadNode): string {
  return representative(node)?.subject ?? '';
}

/** RFC 5256 §3 step (5): roots with the same thread subject become one thread. */
function mergeBySubject(roots: ThreadNode[]): ThreadNode[] {
  // (5.B) One root per subject: a dummy rather than a message, a message rather than a reply.
  const table = new Map<string, ThreadNode>();
  for (const root of roots) {
    const subject = threadSubject(root);
    if (subject === '') continue;
    const held = table.get(subject);
    if (!held) table.set(subject, root);
    else if (held.message && (!root.message || (held.message.isReply && !root.message.isReply))) table.set(subject, root);
  }
  // (5.C) The others merged into it.
  const out: ThreadNode[] = [];
  const replaced = new Map<ThreadNode, ThreadNode>();
  const removed = new Set<ThreadNode>();
  for (const root of roots) {
    const subject = threadSubject(root);
    const held = subject === '' ? undefined : table.get(subject);
    if (!held || held === root) {
      out.push(root);
      continue;
    }
    removed.add(root);
    if (!held.message && !root.message) {
      for (const child of root.children) {
        child.parent = held;
        held.children.push(child);
      }
    } else if (!held.message || (root.message?.isReply && !held.message.isReply)) {
      root.parent = held;
      held.children.push(root);
    } else {
      const dummy: ThreadNode = { children: [held, root] };
      held.parent = dummy;
      root.parent = dummy;
      table.set(subject, dummy);
      replaced.set(held, dummy);
    }
  }
  // A held root that became a dummy's child is replaced by the dummy where it stood.
  const resolve = (node: ThreadNode): ThreadNode => {
    let n = node;
    while (replaced.has(n)) n = replaced.get(n) as ThreadNode;
    return n;
  };
  return out.filter((root) => !removed.has(root)).map(resolve);
}

/** RFC 5256 §3 ORDEREDSUBJECT: by base subject, then date; the first of each subject is the parent of the others. */
export function threadByOrderedSubject(messages: readonly ThreadMessage[]): ThreadNode[] {
  const bySubject = new Map<string, ThreadMessage[]>();
  for (const message of messages) {
    const list = bySubject.get(message.subject);
    if (list) list.push(message);
    else bySubject.set(message.subject, [message]);
  }
  const roots: ThreadNode[] = [];
  for (const list of bySubject.values()) {
    list.sort((a, b) => a.sentDate - b.sentDate || a.seq - b.seq);
    const root: ThreadNode = { message: list[0], children: [] };
    for (const message of list.slice(1)) root.children.push({ message, parent: root, children: [] });
    roots.push(root);
  }
  return roots.sort(compareByDate);
}

/**
 * RFC 5256 §4 thread-list of each root, numbers from `numberOf`: a node and its only child follow each
 * other (`3 6`); several children nest (`3 6 (4 23)(44 7 96)`); a dummy has no number (`(3)(5)`).
 */
export function formatThreads(roots: readonly ThreadNode[], numberOf: (message: ThreadMessage) => number): string {
  let out = '';
  for (const root of roots) {
    // Tokens to write, as a stack: a node to expand, or text.
    const stack: Array<ThreadNode | string> = [')', root, '('];
    while (stack.length > 0) {
      const item = stack.pop() as ThreadNode | string;
      if (typeof item === 'string') {
        out += item;
        continue;
      }
      const children = item.children;
      if (item.message) out += children.length > 0 ? `${numberOf(item.message)} ` : String(numberOf(item.message));
      if (children.length === 1) stack.push(children[0] as ThreadNode);
      else for (let i = children.length - 1; i >= 0; i--) stack.push(')', children[i] as ThreadNode, '(');
    }
  }
  return out;
}
