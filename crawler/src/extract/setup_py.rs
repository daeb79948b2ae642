//! Static reading of setup.py: parse the module (never run it), find the `setup(...)` call and
//! evaluate its requirement keywords when they are literals, or names bound exactly once at
//! module level to literals (`install_requires=requires`), `**` of such dicts, and `+` of
//! literal lists/strings. Anything else is "not static" and left for the sandbox executor.
//! Python 2 `print`/`exec`/`except E, e` statements are tolerated (see `is_python2_statement`).

use std::collections::{BTreeMap, HashMap, HashSet};

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{Expr, ExprContext, Operator, Parameter, PySourceType, Stmt};

use super::reqs::{add_extra, split_extra_key, split_lines, with_extra};

/// setup.py files larger than this are not parsed (real ones are a few KiB).
const MAX_SOURCE: usize = 256 * 1024;
/// Stack for the parse/walk thread: deeply nested input makes the AST (and its drop) deep.
const STACK: usize = 256 * 1024 * 1024;
/// The walk grows its stack on the heap (as ruff's parser does) when less than this is left.
const RED_ZONE: usize = 128 * 1024;
const STACK_SEGMENT: usize = 4 * 1024 * 1024;
/// Bound on name-to-name indirections while resolving literals.
const MAX_RESOLVE_DEPTH: usize = 16;
/// `setup_requires` entries that are known not to inject install requirements.
const HARMLESS_SETUP_REQUIRES: [&str; 6] = [
    "setuptools",
    "setuptools-scm",
    "wheel",
    "cython",
    "pytest-runner",
    "setuptools-git",
];

/// A literal value, as far as we need one.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Lit {
    Str(String),
    List(Vec<Lit>),
    Dict(Vec<(Lit, Lit)>),
    /// A literal of another kind (bool, number, None): fine for non-requirement keywords.
    Other,
}

/// One keyword of the `setup()` call: a literal or not statically known.
type Kwarg = Option<Lit>;

/// The static view of a setup.py.
#[derive(Debug, PartialEq)]
pub(crate) enum SetupPy {
    /// No usable `setup()` call: syntax error, no call, several differing calls, too large.
    Unreadable(String),
    Call {
        kwargs: BTreeMap<String, Kwarg>,
        /// The set of keyword names is known (no unresolved `**kwargs`).
        keywords_static: bool,
    },
}

fn string_list(lit: &Lit) -> Option<Vec<String>> {
    match lit {
        Lit::Str(s) => Some(split_lines([s.as_str()])),
        Lit::List(items) => {
            let strs: Option<Vec<&str>> = items
                .iter()
                .map(|i| {
                    if let Lit::Str(s) = i {
                        Some(s.as_str())
                    } else {
                        None
                    }
                })
                .collect();
            Some(split_lines(strs?))
        }
        _ => None,
    }
}

/// Normalized project name at the start of a requirement string.
fn req_name(req: &str) -> String {
    req.trim()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .map(|c| {
            if matches!(c, '_' | '.') {
                '-'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// What a `setup()` keyword does to the same option in setup.cfg. setuptools applies
/// setup.cfg after the keyword arguments and only to options that are still empty
/// (`ConfigHandler.__setitem__` in setuptools/config/setupcfg.py: "Already inhabited.
/// Skipping."), so a keyword that setup() receives with a non-empty value wins.
#[derive(Debug, PartialEq)]
pub(crate) enum Overrides {
    /// Absent, or a literal empty value: setup.cfg's option applies.
    No,
    /// A non-empty literal: setup.cfg's option is ignored; this value applies.
    With(Vec<String>),
    /// Passed with a value only running setup.py can tell (it may be empty).
    Unknown,
}

impl SetupPy {
    /// How `key` in a readable `setup()` call relates to setup.cfg's option. An unreadable
    /// setup.py says `No`: which keywords it passes is not known, and setup.cfg keeps the
    /// precedence the static reading always gave it.
    pub fn overrides_cfg(&self, key: &str) -> Overrides {
        let SetupPy::Call { kwargs, .. } = self else {
            return Overrides::No;
        };
        match kwargs.get(key) {
            None => Overrides::No,
            Some(None) => Overrides::Unknown,
            Some(Some(lit)) => match string_list(lit) {
                Some(list) if list.is_empty() => Overrides::No,
                Some(list) => Overrides::With(list),
                None => Overrides::Unknown,
            },
        }
    }

    /// A requirement keyword: `Some(None)` when present but not static, `None` when absent.
    fn kwarg(&self, key: &str) -> Option<Option<&Lit>> {
        match self {
            SetupPy::Unreadable(_) => Some(None),
            SetupPy::Call { kwargs, .. } => kwargs.get(key).map(Option::as_ref),
        }
    }

    fn keywords_static(&self) -> bool {
        matches!(
            self,
            SetupPy::Call {
                keywords_static: true,
                ..
            }
        )
    }

    /// `setup_requires`, or empty when absent from a call whose keywords are all known.
    pub fn setup_requires(&self) -> Option<Vec<String>> {
        match self.kwarg("setup_requires") {
            None if self.keywords_static() => Some(Vec::new()),
            None => None,
            Some(lit) => lit.and_then(string_list),
        }
    }

    /// Absent requirements mean "none" only if no plugin can add them (pbr reads
    /// requirements.txt; other `setup_requires` plugins may do likewise).
    fn plugins_may_inject(&self) -> bool {
        if self.kwarg("pbr").is_some() {
            return true;
        }
        match self.setup_requires() {
            Some(list) => list
                .iter()
                .any(|r| !HARMLESS_SETUP_REQUIRES.contains(&req_name(r).as_str())),
            None => true,
        }
    }

    /// `install_requires` plus `extras_require` folded into markers, and the extra names.
    pub fn requires_dist(&self) -> Option<(Vec<String>, Vec<String>)> {
        let install = self.kwarg("install_requires");
        let extras = self.kwarg("extras_require");
        let absent_is_empty = self.keywords_static() && !self.plugins_may_inject();
        let mut reqs = match install {
            None if absent_is_empty => Vec::new(),
            None => return None,
            Some(lit) => string_list(lit?)?,
        };
        let mut names = Vec::new();
        match extras {
            None if absent_is_empty => {}
            None => return None,
            Some(lit) => {
                let Lit::Dict(items) = lit? else { return None };
                for (key, value) in items {
                    let Lit::Str(key) = key else { return None };
                    let (extra, marker) = split_extra_key(key);
                    add_extra(&mut names, extra);
                    reqs.extend(
                        string_list(value)?
                            .iter()
                            .map(|r| with_extra(r, extra, marker)),
                    );
                }
            }
        }
        Some((reqs, names))
    }

    pub fn python_requires(&self) -> Option<String> {
        match self.kwarg("python_requires") {
            Some(Some(Lit::Str(s))) => Some(s.trim().to_string()),
            _ => None,
        }
    }
}

/// Analyzes setup.py source. Runs on a thread with a large stack because hostile input can
/// nest expressions arbitrarily deep.
pub(crate) fn analyze(source: &str) -> SetupPy {
    if source.len() > MAX_SOURCE {
        return SetupPy::Unreadable(format!("setup.py is larger than {MAX_SOURCE} bytes"));
    }
    let owned = source.to_string();
    let worker = std::thread::Builder::new()
        .name("setup.py-parse".into())
        .stack_size(STACK)
        .spawn(move || analyze_on_this_thread(&owned));
    match worker.map(|h| h.join()) {
        Ok(Ok(result)) => result,
        Ok(Err(_)) => SetupPy::Unreadable("the Python parser panicked".into()),
        Err(e) => SetupPy::Unreadable(format!("could not start the parser thread: {e}")),
    }
}

fn analyze_on_this_thread(source: &str) -> SetupPy {
    let parsed = ruff_python_parser::parse_unchecked_source(source, PySourceType::Python);
    for e in parsed.errors() {
        let at = usize::from(e.location.start()).min(source.len());
        if !is_python2_statement(line_at(source, at)) {
            let line = source.as_bytes()[..at]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            return SetupPy::Unreadable(format!("syntax error at line {line}: {}", e.error));
        }
    }
    let suite = parsed.suite();
    let mut scan = Scan::default();
    scan.visit_body(suite);
    let mut literals: HashMap<&str, &Expr> = HashMap::new();
    for stmt in suite {
        if let Stmt::Assign(a) = stmt
            && let [Expr::Name(n)] = a.targets.as_slice()
            && scan.bindings.get(n.id.as_str()) == Some(&1)
            && !scan.tainted.contains(n.id.as_str())
        {
            literals.insert(n.id.as_str(), &a.value);
        }
    }
    let resolver = Resolver { literals };
    let mut results: Vec<SetupPy> = scan.calls.iter().map(|call| resolver.call(call)).collect();
    match results.len() {
        0 => SetupPy::Unreadable("no setup() call found".into()),
        1 => results.remove(0),
        // `try: from setuptools import setup except: from distutils.core import setup` style
        // files sometimes call setup() in two branches; identical calls are still static.
        _ if results.windows(2).all(|w| w[0] == w[1]) => results.remove(0),
        n => SetupPy::Unreadable(format!("{n} differing setup() calls")),
    }
}

/// The source line containing byte offset `at`.
fn line_at(source: &str, at: usize) -> &str {
    let start = source[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = source[at..].find('\n').map_or(source.len(), |i| at + i);
    &source[start..end]
}

/// Python 2 statements that Python 3 cannot parse but that cannot bind or mutate anything a
/// `setup()` call could read: `print x`, `exec code`, `except E, e:`, `raise E, "msg"`. The
/// parser recovers from them locally, so the rest of the module is still trustworthy.
fn is_python2_statement(line: &str) -> bool {
    let t = line.trim_start();
    let word = |w: &str| {
        t.strip_prefix(w)
            .is_some_and(|r| r.starts_with([' ', '\t', '"', '\'']))
    };
    word("print")
        || word("exec")
        || (t.starts_with("except") || t.starts_with("raise")) && t.contains(',')
}

/// Collects `setup()` calls and every name binding / mutation in the module.
#[derive(Default)]
struct Scan<'a> {
    calls: Vec<&'a ruff_python_ast::ExprCall>,
    bindings: HashMap<&'a str, usize>,
    tainted: HashSet<&'a str>,
}

fn is_setup_func(func: &Expr) -> bool {
    match func {
        Expr::Name(n) => n.id.as_str() == "setup",
        Expr::Attribute(a) => {
            a.attr.as_str() == "setup"
                && match a.value.as_ref() {
                    Expr::Name(n) => n.id.as_str() == "setuptools",
                    Expr::Attribute(inner) => inner.attr.as_str() == "core",
                    _ => false,
                }
        }
        _ => false,
    }
}

impl<'a> Visitor<'a> for Scan<'a> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Name(n) if matches!(n.ctx, ExprContext::Store | ExprContext::Del) => {
                *self.bindings.entry(n.id.as_str()).or_default() += 1;
            }
            Expr::Call(call) => {
                if is_setup_func(&call.func) {
                    self.calls.push(call);
                }
                // `reqs.append(...)` and friends: any method call may mutate the object.
                if let Expr::Attribute(a) = call.func.as_ref()
                    && let Expr::Name(n) = a.value.as_ref()
                {
                    self.tainted.insert(n.id.as_str());
                }
            }
            Expr::Subscript(s) if matches!(s.ctx, ExprContext::Store | ExprContext::Del) => {
                if let Expr::Name(n) = s.value.as_ref() {
                    self.tainted.insert(n.id.as_str());
                }
            }
            _ => {}
        }
        stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, || visitor::walk_expr(self, expr));
    }

    fn visit_parameter(&mut self, parameter: &'a Parameter) {
        // A parameter shadows the module-level name inside its function.
        self.tainted.insert(parameter.name.as_str());
        visitor::walk_parameter(self, parameter);
    }

    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if let Stmt::Global(g) = stmt {
            for name in &g.names {
                self.tainted.insert(name.as_str());
            }
        }
        stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, || visitor::walk_stmt(self, stmt));
    }
}

struct Resolver<'a> {
    literals: HashMap<&'a str, &'a Expr>,
}

impl Resolver<'_> {
    fn call(&self, call: &ruff_python_ast::ExprCall) -> SetupPy {
        let mut kwargs = BTreeMap::new();
        let mut keywords_static = true;
        for kw in &call.arguments.keywords {
            match &kw.arg {
                Some(name) => {
                    kwargs.insert(name.as_str().to_string(), self.lit(&kw.value, 0));
                }
                None => match self.lit(&kw.value, 0) {
                    Some(Lit::Dict(items)) => {
                        for (k, v) in items {
                            match k {
                                Lit::Str(k) => {
                                    kwargs.insert(k, Some(v));
                                }
                                _ => keywords_static = false,
                            }
                        }
                    }
                    _ => keywords_static = false,
                },
            }
        }
        SetupPy::Call {
            kwargs,
            keywords_static,
        }
    }

    fn lit(&self, expr: &Expr, depth: usize) -> Option<Lit> {
        if depth > MAX_RESOLVE_DEPTH {
            return None;
        }
        let d = depth + 1;
        Some(match expr {
            Expr::StringLiteral(s) => Lit::Str(s.value.to_str().to_string()),
            Expr::List(l) => Lit::List(self.elements(&l.elts, d)?),
            Expr::Tuple(t) => Lit::List(self.elements(&t.elts, d)?),
            Expr::Dict(dict) => {
                let mut items = Vec::new();
                for item in &dict.items {
                    match &item.key {
                        Some(k) => items.push((self.lit(k, d)?, self.lit(&item.value, d)?)),
                        None => match self.lit(&item.value, d)? {
                            Lit::Dict(inner) => items.extend(inner),
                            _ => return None,
                        },
                    }
                }
                Lit::Dict(items)
            }
            Expr::Name(n) => self.lit(self.literals.get(n.id.as_str())?, d)?,
            Expr::BinOp(b) if b.op == Operator::Add => {
                match (self.lit(&b.left, d)?, self.lit(&b.right, d)?) {
                    (Lit::List(mut l), Lit::List(r)) => {
                        l.extend(r);
                        Lit::List(l)
                    }
                    (Lit::Str(l), Lit::Str(r)) => Lit::Str(l + &r),
                    _ => return None,
                }
            }
            Expr::NumberLiteral(_) | Expr::BooleanLiteral(_) | Expr::NoneLiteral(_) => Lit::Other,
            _ => return None,
        })
    }

    fn elements(&self, elts: &[Expr], depth: usize) -> Option<Vec<Lit>> {
        let mut out = Vec::new();
        for e in elts {
            match e {
                Expr::Starred(s) => match self.lit(&s.value, depth)? {
                    Lit::List(inner) => out.extend(inner),
                    _ => return None,
                },
                other => out.push(self.lit(other, depth)?),
            }
        }
        Some(out)
    }
}

/// Dotted names whose value depends on the machine that runs setup.py.
const ENVIRONMENT_NAMES: [&str; 11] = [
    "sys.version_info",
    "sys.version",
    "sys.platform",
    "sys.implementation",
    "sys.maxsize",
    "os.name",
    "os.environ",
    "os.getenv",
    "version_info",
    "environ",
    "getenv",
];
/// Methods/functions that look at the file system (`Path(".git").exists()`).
const FILE_TESTS: [&str; 6] = ["exists", "isfile", "isdir", "is_file", "is_dir", "lexists"];

/// The first condition (`if`, `elif`, `while`, `x if c else y`) in setup.py that tests the
/// build environment — Python version, platform, environment variables, the presence of
/// files — described for the crawl state; `None` when there is none (or the file does not
/// parse). Cheap: one parse and walk, only done when requires.txt must be judged.
pub(crate) fn environment_condition(source: &str) -> Option<String> {
    if source.len() > MAX_SOURCE {
        return Some(format!("setup.py is larger than {MAX_SOURCE} bytes"));
    }
    let owned = source.to_string();
    std::thread::Builder::new()
        .name("setup.py-env".into())
        .stack_size(STACK)
        .spawn(move || {
            let parsed = ruff_python_parser::parse_unchecked_source(&owned, PySourceType::Python);
            let mut finder = EnvFinder::default();
            finder.visit_body(parsed.suite());
            finder.found
        })
        .ok()?
        .join()
        .unwrap_or_else(|_| Some("the Python parser panicked".into()))
}

#[derive(Default)]
struct EnvFinder {
    found: Option<String>,
}

/// `a.b.c` for a chain of names and attributes.
fn dotted(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Name(n) => Some(n.id.to_string()),
        Expr::Attribute(a) => Some(format!("{}.{}", dotted(&a.value)?, a.attr.as_str())),
        _ => None,
    }
}

/// Whether a condition mentions the environment, and how.
fn environment_in(test: &Expr) -> Option<String> {
    struct Walk(Option<String>);
    impl<'a> Visitor<'a> for Walk {
        fn visit_expr(&mut self, expr: &'a Expr) {
            if self.0.is_some() {
                return;
            }
            if let Some(name) = dotted(expr)
                && (ENVIRONMENT_NAMES.contains(&name.as_str()) || name.starts_with("platform."))
            {
                self.0 = Some(name);
                return;
            }
            if let Expr::Call(call) = expr
                && let Expr::Attribute(a) = call.func.as_ref()
                && FILE_TESTS.contains(&a.attr.as_str())
            {
                self.0 = Some(format!(".{}()", a.attr.as_str()));
                return;
            }
            stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, || visitor::walk_expr(self, expr));
        }
    }
    let mut walk = Walk(None);
    walk.visit_expr(test);
    walk.0.map(|what| format!("a condition tests {what}"))
}

impl<'a> Visitor<'a> for EnvFinder {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if self.found.is_some() {
            return;
        }
        match stmt {
            Stmt::If(s) => {
                self.found = environment_in(&s.test).or_else(|| {
                    s.elif_else_clauses
                        .iter()
                        .filter_map(|c| c.test.as_ref())
                        .find_map(environment_in)
                });
            }
            Stmt::While(s) => self.found = environment_in(&s.test),
            _ => {}
        }
        stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, || visitor::walk_stmt(self, stmt));
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if self.found.is_some() {
            return;
        }
        if let Expr::If(e) = expr {
            self.found = environment_in(&e.test);
        }
        stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, || visitor::walk_expr(self, expr));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reqs(src: &str) -> Option<(Vec<String>, Vec<String>)> {
        analyze(src).requires_dist()
    }

    #[test]
    fn literal_keywords() {
        let src = "from setuptools import setup\nsetup(name='x', install_requires=['a>=1', 'b'], extras_require={'t': ['c'], ':python_version<\"3\"': 'd'}, setup_requires=['setuptools_scm'], python_requires='>=3.6', packages=find_packages())\n";
        let s = analyze(src);
        assert_eq!(
            s.requires_dist(),
            Some((
                vec![
                    "a>=1".into(),
                    "b".into(),
                    "c; extra == \"t\"".into(),
                    "d; python_version<\"3\"".into()
                ],
                vec!["t".into()]
            ))
        );
        assert_eq!(s.setup_requires(), Some(vec!["setuptools_scm".into()]));
        assert_eq!(s.python_requires().as_deref(), Some(">=3.6"));
    }

    #[test]
    fn resolves_module_names_concatenation_and_double_star() {
        let src = "import setuptools\nbase = ['a']\nrequires = base + ['b', *['c']]\nextra = {'x': ['d']}\nkw = dict()\nopts = {'extras_require': extra}\nif __name__ == '__main__':\n    setuptools.setup(install_requires=requires, **opts)\n";
        assert_eq!(
            reqs(src),
            Some((
                vec![
                    "a".into(),
                    "b".into(),
                    "c".into(),
                    "d; extra == \"x\"".into()
                ],
                vec!["x".into()]
            ))
        );
    }

    #[test]
    fn mutated_or_computed_is_unknown() {
        for src in [
            "reqs = ['a']\nreqs.append('b')\nsetup(install_requires=reqs)\n",
            "reqs = ['a']\nif x:\n    reqs = ['b']\nsetup(install_requires=reqs)\n",
            "reqs = ['a']\nreqs += ['b']\nsetup(install_requires=reqs)\n",
            "setup(install_requires=open('requirements.txt').read().splitlines())\n",
            "setup(install_requires=[r for r in x])\n",
            "def f(reqs):\n    setup(install_requires=reqs)\nreqs = ['a']\n",
            "setup(name='x', **get_kwargs())\n",
            "setup(setup_requires=['pbr'], pbr=True)\n",
            "setup(setup_requires=['some-plugin'])\n",
        ] {
            assert_eq!(reqs(src), None, "{src}");
        }
    }

    #[test]
    fn absent_keywords_in_static_call_are_empty() {
        assert_eq!(
            reqs("from distutils.core import setup\nsetup(name='x', version='1')\n"),
            Some((vec![], vec![]))
        );
        let s = analyze("setup(name='x')\n");
        assert_eq!(s.setup_requires(), Some(vec![]));
        assert_eq!(
            reqs("setup(name='x', setup_requires=['setuptools_scm'])\n"),
            Some((vec![], vec![]))
        );
    }

    #[test]
    fn unreadable_cases() {
        assert!(
            matches!(analyze("print 'python 2'\nsetup(\n"), SetupPy::Unreadable(m) if m.starts_with("syntax error at line 3: unexpected EOF"))
        );
        assert!(matches!(
            analyze("x = 0755\nsetup()\n"),
            SetupPy::Unreadable(_)
        ));
        assert!(matches!(analyze("import os\n"), SetupPy::Unreadable(_)));
        assert!(matches!(
            analyze(
                "if a:\n    setup(install_requires=['a'])\nelse:\n    setup(install_requires=['b'])\n"
            ),
            SetupPy::Unreadable(_)
        ));
        assert_eq!(reqs("if a:\n    setup(install_requires=['a'])\nelse:\n    setup(install_requires=['a'])\n").map(|r| r.0), Some(vec!["a".to_string()]));
        assert_eq!(
            analyze(&"#".repeat(MAX_SOURCE + 1)),
            SetupPy::Unreadable(format!("setup.py is larger than {MAX_SOURCE} bytes"))
        );
    }

    #[test]
    fn python2_statements_are_tolerated() {
        let src = "import sys\ntry:\n    import setuptools\nexcept ImportError, e:\n    print >>sys.stderr, 'no setuptools'\n    raise SystemExit, 1\nprint 'building'\nexec open('v.py').read()\nreqs = ['a']\nsetup(install_requires=reqs)\n";
        assert_eq!(reqs(src), Some((vec!["a".into()], vec![])));
        assert!(is_python2_statement("    print 'x'"));
        assert!(!is_python2_statement("printer = 1"));
        assert!(!is_python2_statement("reqs.append('x')"));
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let depth = 100_000;
        let src = format!(
            "setup(install_requires={}{})\n",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        assert_eq!(reqs(&src), None);
        // The deepest trees the size cap allows: unary chains, left-deep attribute chains.
        let src = format!("x = {}1\nsetup()\n", "-".repeat(MAX_SOURCE - 20));
        assert!(matches!(analyze(&src), SetupPy::Call { .. }));
        let src = format!("x = a{}\nsetup()\n", ".b".repeat(MAX_SOURCE / 2 - 20));
        assert!(matches!(analyze(&src), SetupPy::Call { .. }));
    }

    #[test]
    fn keywords_override_setup_cfg_options() {
        let call = analyze(
            "from setuptools import setup\nsetup(setup_requires=['setuptools >= 45.0.0'], \
             install_requires=[], python_requires=compute())",
        );
        assert_eq!(
            call.overrides_cfg("setup_requires"),
            Overrides::With(vec!["setuptools >= 45.0.0".into()])
        );
        assert_eq!(call.overrides_cfg("install_requires"), Overrides::No);
        assert_eq!(call.overrides_cfg("python_requires"), Overrides::Unknown);
        assert_eq!(call.overrides_cfg("extras_require"), Overrides::No);
        let unreadable = analyze("setup(");
        assert_eq!(unreadable.overrides_cfg("setup_requires"), Overrides::No);
    }

    #[test]
    fn environment_conditions() {
        // matplotlib 3.6.1's setup.py (tests/fixtures/pypi/SOURCES.md), abridged.
        let matplotlib = "setup(install_requires=['numpy>=1.19'] + (\n    ['setuptools_scm>=7'] if (\n        Path(__file__).with_name('.git').exists() and\n        os.environ.get('CIBUILDWHEEL', '0') != '1'\n    ) else []\n))\n";
        assert_eq!(
            environment_condition(matplotlib).as_deref(),
            Some("a condition tests .exists()")
        );
        for (src, what) in [
            (
                "if sys.version_info < (3,):\n    reqs = ['a']\n",
                "sys.version_info",
            ),
            (
                "if x:\n    pass\nelif platform.system() == 'Windows':\n    pass\n",
                "platform.system",
            ),
            ("r = ['a'] if os.environ.get('X') else []\n", "os.environ"),
            (
                "if os.path.isfile('requirements.txt'):\n    pass\n",
                ".isfile()",
            ),
        ] {
            let got = environment_condition(src).unwrap_or_default();
            assert!(got.contains(what), "{src}: {got}");
        }
        for src in [
            "setup(install_requires=open('requirements.txt').read().splitlines())\n",
            "if __name__ == '__main__':\n    setup(install_requires=reqs())\n",
            "x = sys.version_info\n",
        ] {
            assert_eq!(environment_condition(src), None, "{src}");
        }
    }
}
