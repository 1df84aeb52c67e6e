// An identifier as SQL that stays on one line: a name holding a newline or another control character
// is written as a Unicode escape (U&"e\000aEND"), so that no line-based reader (psql, replay.sql's
// runner, a terminal) ever sees the rest of the name as a new line of its own.

const CONTROL = /[\u0000-\u001F\u007F]/

const unicodeEscape = (name: string) =>
  `U&"${[...name].map(ch => ch === '\\' ? '\\\\' : ch === '"' ? '""' : CONTROL.test(ch) ? `\\${ch.charCodeAt(0).toString(16).padStart(4, '0')}` : ch).join('')}"`

export const quoteIdent = (name: string) => CONTROL.test(name) ? unicodeEscape(name) : `"${name.replace(/"/g, '""')}"`
