//! How deep the interpreter may go. It evaluates by recursion on the native
//! stack, so a definition that calls itself without end, or a spec that
//! nests expressions absurdly deep, would overflow the stack and abort the
//! process. Instead:
//!
//! - the syntax tree of a module may nest at most [`MAX_NESTING`] levels
//!   (checked without recursion right after tree-sitter parses it, before
//!   anything walks the tree);
//! - evaluation may nest at most [`MAX_CALL_DEPTH`] calls of operators,
//!   LET operators, recursive functions and closures (counted on those call
//!   paths only, not on every expression);
//! - as a backstop for what neither bounds (a deeply nested body called
//!   deeply), each call also checks that at least [`RESERVE`] bytes of the
//!   thread's stack are left.
//!
//! The checker's workers and the thread that loads a spec run with
//! [`crate::checker::STACK_SIZE`] bytes of stack, which holds
//! [`MAX_CALL_DEPTH`] calls of an ordinary body with room to spare.

use std::cell::Cell;

/// Nested calls evaluation may make. A call of `F(n) == IF n = 0 THEN 0 ELSE
/// 1 + F(n - 1)` takes about 1.7 KB of stack in the test profile and 2.1 KB
/// in release, so 20,000 take about 42 MB of [`crate::checker::STACK_SIZE`]:
/// a body may use six times as much per call before the stack-room check
/// stops it first.
pub const MAX_CALL_DEPTH: u32 = 20_000;

/// Levels the syntax tree of a module may nest. Compiling one level takes up
/// to 2.8 KB of stack (a nested set `{{…}}`), so 2,000 levels take under
/// 6 MB.
pub const MAX_NESTING: usize = 2_000;

/// Stack bytes a call must find left (at most a quarter of the thread's
/// stack): enough for evaluating an expression nested [`MAX_NESTING`] deep
/// between two calls.
pub const RESERVE: usize = 16 << 20;

thread_local! {
    /// The lowest stack address a call may start at on this thread; 0 until
    /// known, 1 when the stack's bounds cannot be found.
    static FLOOR: Cell<usize> = const { Cell::new(0) };
}

/// The lowest stack address at which this thread has room for another
/// call (1 when unknown: every address passes).
pub fn floor() -> usize {
    let mut floor = FLOOR.get();
    if floor == 0 {
        floor = find_floor();
        FLOOR.set(floor);
    }
    floor
}

/// Whether the stack has room for another call, given this thread's
/// [`floor`].
#[inline]
pub fn room(floor: usize) -> bool {
    let here = 0u8;
    std::hint::black_box(&here) as *const u8 as usize > floor
}

#[cfg(target_os = "linux")]
fn find_floor() -> usize {
    use std::mem::MaybeUninit;
    // SAFETY: pthread_getattr_np fills attr for the calling thread; it is
    // read only when that succeeded, and destroyed after.
    unsafe {
        let mut attr = MaybeUninit::<libc::pthread_attr_t>::uninit();
        if libc::pthread_getattr_np(libc::pthread_self(), attr.as_mut_ptr()) != 0 {
            return 1;
        }
        let mut low: *mut libc::c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let got = libc::pthread_attr_getstack(attr.as_ptr(), &mut low, &mut size);
        libc::pthread_attr_destroy(attr.as_mut_ptr());
        if got != 0 || low.is_null() || size == 0 {
            return 1;
        }
        low as usize + RESERVE.min(size / 4)
    }
}

#[cfg(not(target_os = "linux"))]
fn find_floor() -> usize {
    1
}

/// The message of an evaluation stopped at [`MAX_CALL_DEPTH`].
pub fn too_deep() -> String {
    format!(
        "recursion is too deep: more than {MAX_CALL_DEPTH} nested calls of operators or recursive functions (the limit); \
         does a recursive definition never reach its base case?"
    )
}

/// The message of an evaluation stopped by the stack backstop.
pub fn out_of_stack() -> String {
    format!(
        "the expression nests too deeply: fewer than {} MiB of stack are left for evaluating it \
         (recursion is limited to {MAX_CALL_DEPTH} nested calls, syntax to {MAX_NESTING} levels)",
        RESERVE >> 20
    )
}

/// The first node of `tree` nested deeper than [`MAX_NESTING`], found
/// without recursion.
pub fn too_nested(tree: &tree_sitter::Tree) -> Option<tree_sitter::Node<'_>> {
    let mut cursor = tree.walk();
    let mut depth = 0usize;
    loop {
        if depth > MAX_NESTING {
            return Some(cursor.node());
        }
        if cursor.goto_first_child() {
            depth += 1;
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return None;
            }
            depth -= 1;
        }
    }
}

/// The message for a module nested deeper than [`MAX_NESTING`].
pub fn nests_too_deeply() -> String {
    format!("the expression nests too deeply: more than {MAX_NESTING} levels of syntax (the limit)")
}
