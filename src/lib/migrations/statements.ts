import {Refused} from '../errors.js'

// One statement of a SQL script, with the parse tree of the real PostgreSQL parser (libpg-query).
export interface Statement {
  text: string
  // The node's type (`DropStmt`, `AlterTableStmt`, ...) and its fields.
  kind: string
  node: any
}

interface RawStatement {
  stmt?: Record<string, any>
  stmt_location?: number
  stmt_len?: number
}

// Splits a script into statements at the parser's own boundaries (so `$$` bodies, strings and comments
// are handled as PostgreSQL handles them). Offsets are in bytes of UTF-8, hence the Buffer.
export async function parseStatements(sql: string, file: string): Promise<Statement[]> {
  const {parse} = await import('libpg-query')
  let result: {stmts?: RawStatement[]}
  try {
    result = await parse(sql)
  } catch (error) {
    throw new Refused(`${file} is not valid PostgreSQL: ${(error as Error).message}.`)
  }
  const bytes = Buffer.from(sql, 'utf8')
  return (result.stmts ?? []).filter(raw => raw.stmt).map(raw => {
    const start = raw.stmt_location ?? 0
    const end = raw.stmt_len ? start + raw.stmt_len : bytes.length
    const [kind, node] = Object.entries(raw.stmt!)[0]
    return {text: withoutLeadingComments(bytes.subarray(start, end).toString('utf8')), kind, node}
  })
}

// The parser's statement starts right after the previous one, so it carries the `-- CreateTable`
// headers Prisma writes; they are dropped for display (the statement itself is unchanged).
const withoutLeadingComments = (text: string) => text.trim().replace(/^(?:--[^\n]*\n\s*)+/, '').trim()

const hasConcurrentlyOption = (options: any[] | undefined) =>
  (options ?? []).some(option => option?.DefElem?.defname === 'concurrently')

// Why a statement cannot run inside a transaction block, or undefined when it can.
export function nonTransactionalReason(statement: Statement): string | undefined {
  const {kind, node} = statement
  switch (kind) {
    case 'IndexStmt': return node.concurrent ? 'CREATE INDEX CONCURRENTLY cannot run inside a transaction' : undefined
    case 'DropStmt': return node.concurrent ? 'DROP INDEX CONCURRENTLY cannot run inside a transaction' : undefined
    case 'ReindexStmt': return hasConcurrentlyOption(node.params) ? 'REINDEX CONCURRENTLY cannot run inside a transaction' : undefined
    case 'AlterTableStmt':
      return (node.cmds ?? []).some((c: any) => c.AlterTableCmd?.subtype === 'AT_DetachPartition' && c.AlterTableCmd?.def?.PartitionCmd?.concurrent)
        ? 'DETACH PARTITION CONCURRENTLY cannot run inside a transaction' : undefined
    case 'CreatedbStmt': case 'DropdbStmt': return 'CREATE/DROP DATABASE cannot run inside a transaction'
    case 'CreateTableSpaceStmt': case 'DropTableSpaceStmt': return 'CREATE/DROP TABLESPACE cannot run inside a transaction'
    case 'VacuumStmt': return `${node.is_vacuumcmd ? 'VACUUM' : 'ANALYZE'} is not allowed here: VACUUM cannot run inside a transaction`
    case 'AlterSystemStmt': return 'ALTER SYSTEM cannot run inside a transaction'
    case 'ClusterStmt': return node.relation ? undefined : 'CLUSTER without a table cannot run inside a transaction'
    case 'CreateSubscriptionStmt': case 'DropSubscriptionStmt': case 'AlterSubscriptionStmt':
      return 'subscriptions that create or drop replication slots cannot run inside a transaction'
    case 'TransactionStmt':
      return 'BEGIN/COMMIT/ROLLBACK would end the single transaction this command runs every step in: remove it from the file'
    default: return undefined
  }
}

// `COPY ... TO PROGRAM` / `FROM PROGRAM` runs a shell command on the database server: not a schema change,
// and nothing a check may run (on PGlite it never ends).
export const runsProgram = (statement: Statement) => statement.kind === 'CopyStmt' && Boolean(statement.node.is_program)
