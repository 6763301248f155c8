//! A strategy combinator for the parts of a request that rarely matter to
//! a failure (ids, timestamps, the plugin context): its first shrink step
//! jumps straight to a plain value, so a failure caused by the message
//! sheds all of them in one step instead of one field at a time. Against a
//! live plugin every shrink step is a call, and after a crash a relaunch,
//! so the number of steps is what shrinking costs.

use std::fmt;

use proptest::{
    strategy::{NewTree, Strategy, ValueTree},
    test_runner::TestRunner,
};

/// `inner`, shrinking first to `plain` in one step, and only when that
/// makes the failure go away, field by field as `inner` shrinks.
pub fn plain_first<S>(inner: S, plain: S::Value) -> PlainFirst<S>
where
    S: Strategy,
    S::Value: Clone,
{
    PlainFirst { inner, plain }
}

pub struct PlainFirst<S: Strategy> {
    inner: S,
    plain: S::Value,
}

impl<S: Strategy> fmt::Debug for PlainFirst<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlainFirst")
            .field("inner", &self.inner)
            .field("plain", &self.plain)
            .finish()
    }
}

impl<S> Strategy for PlainFirst<S>
where
    S: Strategy,
    S::Value: Clone,
{
    type Tree = PlainFirstTree<S::Tree>;
    type Value = S::Value;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        Ok(PlainFirstTree {
            inner: self.inner.new_tree(runner)?,
            plain: self.plain.clone(),
            state: State::Untried,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Showing the generated value; the plain one was not tried yet.
    Untried,
    /// Showing the plain value, being tried.
    Plain,
    /// The plain value kept the failure: nothing is simpler.
    Done,
    /// The plain value made the failure go away: shrink the generated one.
    Inner,
}

pub struct PlainFirstTree<T: ValueTree> {
    inner: T,
    plain: T::Value,
    state: State,
}

impl<T> ValueTree for PlainFirstTree<T>
where
    T: ValueTree,
    T::Value: Clone,
{
    type Value = T::Value;

    fn current(&self) -> T::Value {
        match self.state {
            State::Plain | State::Done => self.plain.clone(),
            State::Untried | State::Inner => self.inner.current(),
        }
    }

    fn simplify(&mut self) -> bool {
        match self.state {
            State::Untried => {
                self.state = State::Plain;
                true
            }
            State::Plain | State::Done => {
                self.state = State::Done;
                false
            }
            State::Inner => self.inner.simplify(),
        }
    }

    fn complicate(&mut self) -> bool {
        match self.state {
            State::Plain => {
                self.state = State::Inner;
                true
            }
            State::Inner => self.inner.complicate(),
            State::Untried | State::Done => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::test_runner::TestRunner;

    #[test]
    fn the_first_step_is_the_plain_value_then_the_inner_shrinking() {
        let strategy = plain_first(100u32..1000, 0);
        let mut runner = TestRunner::deterministic();
        let mut tree = strategy.new_tree(&mut runner).unwrap();
        let generated = tree.current();
        assert!(tree.simplify());
        assert_eq!(tree.current(), 0);
        // The plain value passed: back to the generated one, then binary search.
        assert!(tree.complicate());
        assert_eq!(tree.current(), generated);
        assert!(tree.simplify());
        assert!(tree.current() < generated);
        // A plain value that keeps failing is the end.
        let mut tree = strategy.new_tree(&mut runner).unwrap();
        assert!(tree.simplify());
        assert!(!tree.simplify());
        assert_eq!(tree.current(), 0);
        assert!(!tree.complicate());
    }
}
