// Where a migration's down SQL comes from: its down.sql (the layout of Prisma's "generating down
// migrations" guide), or Prisma diffing the migration states (the project's own Prisma CLI, or with
// --generate Prisma's schema engine compiled to WebAssembly); otherwise a refusal.
export type DownSql =
  | {kind: 'file', path: string, sql: string}
  // `note`: which engine and release the SQL comes from, against the project's.
  | {kind: 'generated', command: string, sql: string, note?: string}
  | {kind: 'missing', reason: string}
