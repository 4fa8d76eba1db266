// The bounds of a condition, checked before and while it is read: a condition is a line a person
// types, and every bound keeps hostile text (a megabyte string, ten thousand parentheses, a list of
// a million values) from costing more than a refusal.

/** Characters in a whole condition. */
export const MAX_CONDITION_LENGTH = 4096;
/** Characters in a name (the longest field name is about 20). */
export const MAX_NAME_LENGTH = 64;
/** Nested parentheses, NOTs, unary signs and function calls: the parser's recursion stays shallow. */
export const MAX_DEPTH = 32;
/**
 * Operators (AND, OR, comparisons, arithmetic, BETWEEN, IN, LIKE, IS) in a whole condition: a chain
 * such as 1+1+1+... is a tree as deep as it is long, which checking and evaluating walk by
 * recursion; this keeps that walk a few hundred calls deep whatever the text.
 */
export const MAX_OPERATORS = 256;
/** Values in one IN (...) list. */
export const MAX_IN_LIST = 256;
/** Arguments of a function such as least, greatest or coalesce. */
export const MAX_ARGUMENTS = 32;
