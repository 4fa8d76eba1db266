// The bounds of a condition, checked before and while it is read: a condition is a line a person
// types, and every bound keeps hostile text (a megabyte string, ten thousand parentheses, a list of
// a million values) from costing more than a refusal.

/** Characters in a whole condition. */
export const MAX_CONDITION_LENGTH = 4096;
/** Characters in a name (the longest field name is about 20). */
export const MAX_NAME_LENGTH = 64;
/** Nested parentheses, NOTs, unary signs and function calls: the parser's recursion stays shallow. */
export const MAX_DEPTH = 32;
/** Values in one IN (...) list. */
export const MAX_IN_LIST = 256;
/** Arguments of a function such as least, greatest or coalesce. */
export const MAX_ARGUMENTS = 32;
