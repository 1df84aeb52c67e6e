import type {MigrationCheck} from '../check/staircase.js'
import {quoteIdent} from '../../postgres/identifiers.js'
import {parseStatements, type Statement} from '../statements.js'

// What a generated down lacks, said as the SQL to add by hand: Prisma's diff compares two schemas, so it
// cannot see a rename (it drops and adds, losing the values), does not know what schema.prisma cannot
// model (check constraints, triggers, views, functions), and writes steps that fail on tables with rows.

const names = (items: any[] | undefined): string[] => (items ?? []).map(item => item?.String?.sval).filter((s): s is string => typeof s === 'string')

const alterCommands = (statements: Statement[]) => statements.filter(s => s.kind === 'AlterTableStmt')
  .flatMap(s => (s.node.cmds ?? []).map((c: any) => ({table: s.node.relation?.relname as string, cmd: c.AlterTableCmd})))

const droppedColumn = (down: Statement[], table: string, column: string) =>
  alterCommands(down).some(({table: t, cmd}) => t === table && cmd?.subtype === 'AT_DropColumn' && cmd.name === column)

const droppedTable = (down: Statement[], table: string) =>
  down.some(s => s.kind === 'DropStmt' && s.node.removeType === 'OBJECT_TABLE' && (s.node.objects ?? []).some((o: any) => names(o.List?.items).at(-1) === table))

// A rename the generated down undoes by dropping: always a problem, whatever the staircase says (it compares schemas, not values).
function renames(up: Statement[], down: Statement[]): string[] {
  return up.filter(s => s.kind === 'RenameStmt').flatMap(({node}) => {
    const table = node.relation?.relname as string | undefined
    if (node.renameType === 'OBJECT_COLUMN' && table && droppedColumn(down, table, node.newname)) {
      return [`the generated down drops column ${quoteIdent(table)}.${quoteIdent(node.newname)} with its values and adds ${quoteIdent(node.subname)} back empty: Prisma's diff cannot see that the migration renamed it. Write by hand instead: ALTER TABLE ${quoteIdent(table)} RENAME COLUMN ${quoteIdent(node.newname)} TO ${quoteIdent(node.subname)};`]
    }
    if (node.renameType === 'OBJECT_TABLE' && table && droppedTable(down, node.newname)) {
      return [`the generated down drops table ${quoteIdent(node.newname)} with its rows and creates ${quoteIdent(table)} empty: Prisma's diff cannot see that the migration renamed it. Write by hand instead: ALTER TABLE ${quoteIdent(node.newname)} RENAME TO ${quoteIdent(table)};`]
    }
    return []
  })
}

interface Unmodeled {
  what: string
  name: string
  drop: string
}

// What the migration creates that schema.prisma cannot model, with the statement that removes it.
function unmodeled(up: Statement[]): Unmodeled[] {
  const found: Unmodeled[] = []
  for (const {table, cmd} of alterCommands(up)) {
    const constraint = cmd?.subtype === 'AT_AddConstraint' ? cmd.def?.Constraint : undefined
    if (constraint?.contype === 'CONSTR_CHECK' && constraint.conname) {
      found.push({what: 'check constraint', name: constraint.conname, drop: `ALTER TABLE ${quoteIdent(table)} DROP CONSTRAINT ${quoteIdent(constraint.conname)};`})
    }
  }
  for (const {kind, node} of up) {
    if (kind === 'CreateTrigStmt') found.push({what: 'trigger', name: node.trigname, drop: `DROP TRIGGER ${quoteIdent(node.trigname)} ON ${quoteIdent(node.relation.relname)};`})
    if (kind === 'ViewStmt') found.push({what: 'view', name: node.view.relname, drop: `DROP VIEW ${quoteIdent(node.view.relname)};`})
    if (kind === 'CreateFunctionStmt') {
      const name = names(node.funcname).at(-1)!
      found.push({what: node.is_procedure ? 'procedure' : 'function', name, drop: `DROP ${node.is_procedure ? 'PROCEDURE' : 'FUNCTION'} ${quoteIdent(name)};`})
    }
  }
  return found
}

function missingByHand(up: Statement[], check: MigrationCheck): string[] {
  const leftOver = check.problems.filter(p => /still there after down/.test(p))
  return unmodeled(up).filter(o => leftOver.some(p => p.includes(quoteIdent(o.name))))
    .map(o => `Prisma's schema cannot model the ${o.what} ${quoteIdent(o.name)}, so its diff leaves it: add to the down by hand: ${o.drop}`)
}

const hasConstraint = (column: any, type: string) => (column?.constraints ?? []).some((c: any) => c?.Constraint?.contype === type)

// Steps of the generated down that fail on tables with rows, with what to add before them.
function dataSteps(up: Statement[], down: Statement[]): string[] {
  const lines: string[] = []
  const addedValues = up.filter(s => s.kind === 'AlterEnumStmt' && s.node.newVal).map(s => ({type: names(s.node.typeName).at(-1)!, value: s.node.newVal as string}))
  const createdEnums = new Map(down.filter(s => s.kind === 'CreateEnumStmt').map(s => [names(s.node.typeName).at(-1)!, names(s.node.vals)]))
  for (const {table, cmd} of alterCommands(down)) {
    const column = cmd?.def?.ColumnDef
    if (cmd?.subtype === 'AT_AddColumn' && hasConstraint(column, 'CONSTR_NOTNULL') && !hasConstraint(column, 'CONSTR_DEFAULT')) {
      const name = quoteIdent(column.colname)
      lines.push(`the generated down adds ${quoteIdent(table)}.${name} NOT NULL without a default, which fails on a table with rows: give it a DEFAULT, or add it without NOT NULL, fill it (UPDATE ${quoteIdent(table)} SET ${name} = ...), then ALTER TABLE ${quoteIdent(table)} ALTER COLUMN ${name} SET NOT NULL;`)
    }
    if (cmd?.subtype === 'AT_SetNotNull') {
      lines.push(`the generated down makes ${quoteIdent(table)}.${quoteIdent(cmd.name)} NOT NULL, which fails while a row holds NULL there: fill those first, by hand: UPDATE ${quoteIdent(table)} SET ${quoteIdent(cmd.name)} = ... WHERE ${quoteIdent(cmd.name)} IS NULL;`)
    }
    const target = cmd?.subtype === 'AT_AlterColumnType' ? names(column?.typeName?.names).at(-1) : undefined
    const values = target && createdEnums.get(target)
    if (values) {
      const enumName = target.replace(/_new$/, '')
      const removed = addedValues.filter(v => v.type === enumName && !values.includes(v.value)).map(v => v.value)
      const literal = (value: string) => `'${value.replace(/'/g, '\'\'')}'`
      const col = quoteIdent(cmd.name)
      if (removed.length > 0) {
        lines.push(`the generated down re-creates enum ${quoteIdent(enumName)} without ${removed.map(literal).join(', ')}, which fails while a row of ${quoteIdent(table)}.${col} holds ${removed.length > 1 ? 'one of them' : 'it'}: first move those rows to a value that stays (pick the right one), by hand: UPDATE ${quoteIdent(table)} SET ${col} = ${literal(values[0])} WHERE ${col} IN (${removed.map(literal).join(', ')});`)
      }
    }
  }
  return lines
}

// What to add to a generated down's verdict: problems (a rename undone by dropping, which the staircase cannot
// see: it compares schemas, not values) and, for what it did find, the SQL to write by hand.
export async function byHand(up: string, down: string, check: MigrationCheck): Promise<{problems: string[], notes: string[]}> {
  let upStatements: Statement[]
  let downStatements: Statement[]
  try {
    upStatements = await parseStatements(up, 'migration.sql')
    downStatements = await parseStatements(down, 'the generated down')
  } catch {
    return {problems: [], notes: []}
  }
  const failedOnRows = check.problems.some(p => /^down\.sql fails/.test(p))
  return {
    problems: renames(upStatements, downStatements),
    notes: [...check.verdict === 'differs' ? missingByHand(upStatements, check) : [], ...failedOnRows ? dataSteps(upStatements, downStatements) : []],
  }
}

// The verdict on a generated down, said of it (not of a down.sql), with what it lacks.
export async function amendVerdict(check: MigrationCheck, up: string, down: string): Promise<MigrationCheck> {
  const more = await byHand(up, down, check)
  const problems = [...check.problems.map(p => p.replace(/^down\.sql\b/, 'the generated down')), ...more.problems]
  return {...check, problems, notes: [...check.notes, ...more.notes], verdict: check.verdict === 'reverts' && more.problems.length > 0 ? 'differs' : check.verdict}
}
