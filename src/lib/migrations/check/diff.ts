import type {CatalogObject, Snapshot} from './snapshot.js'

// What differs between the schema expected at a point of the staircase and the one found there, each
// difference said as what it is: `index "User_email_key" still there after down`.

export type Difference =
  | {change: 'extra' | 'missing', object: string}
  | {change: 'changed', object: string, property: string, expected: string, found: string}
  | {change: 'values', object: string, extra: string[], missing: string[], reordered: boolean}

const describeObject = (object: CatalogObject) => `${object.kind} ${object.name}`

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((value, i) => value === b[i])

function compareProps(object: CatalogObject, expected: CatalogObject['props'], found: CatalogObject['props']): Difference[] {
  const differences: Difference[] = []
  for (const property of [...new Set([...Object.keys(expected), ...Object.keys(found)])].sort()) {
    const want = expected[property] ?? ''
    const have = found[property] ?? ''
    if (Array.isArray(want) || Array.isArray(have)) {
      const wantList = Array.isArray(want) ? want : []
      const haveList = Array.isArray(have) ? have : []
      if (sameList(wantList, haveList)) continue
      const extra = haveList.filter(v => !wantList.includes(v))
      const missing = wantList.filter(v => !haveList.includes(v))
      differences.push({change: 'values', object: describeObject(object), extra, missing, reordered: extra.length === 0 && missing.length === 0})
    } else if (want !== have) {
      differences.push({change: 'changed', object: describeObject(object), property, expected: want, found: have})
    }
  }
  return differences
}

// A column or constraint of a table that is itself extra or missing is said once, with its table.
function coveredByTable(object: CatalogObject, tables: Set<string>): boolean {
  if (object.kind === 'column') return tables.has(object.name.slice(0, object.name.lastIndexOf('.')))
  const on = / on (.+)$/.exec(object.name)
  if (on && object.kind !== 'index') return tables.has(on[1])
  return false
}

export function diffSnapshots(expected: Snapshot, found: Snapshot): Difference[] {
  const missing = Object.keys(expected).filter(key => !(key in found)).map(key => expected[key])
  const extra = Object.keys(found).filter(key => !(key in expected)).map(key => found[key])
  const tablesOf = (objects: CatalogObject[]) => new Set(objects.filter(o => o.kind === 'table').map(o => o.name))
  const missingTables = tablesOf(missing)
  const extraTables = tablesOf(extra)
  const differences: Difference[] = [
    ...extra.filter(o => !coveredByTable(o, extraTables)).map(o => ({change: 'extra' as const, object: describeObject(o)})),
    ...missing.filter(o => !coveredByTable(o, missingTables)).map(o => ({change: 'missing' as const, object: describeObject(o)})),
  ]
  for (const key of Object.keys(expected).filter(k => k in found)) differences.push(...compareProps(expected[key], expected[key].props, found[key].props))
  return differences.sort((a, b) => a.object.localeCompare(b.object))
}

// Where in the staircase the snapshot was taken, and what it was compared with.
export interface Moment {
  after: string
  expected: string
}

export const AFTER_DOWN: Moment = {after: 'after down', expected: 'before the migration'}
export const AFTER_REDO: Moment = {after: 'after down and up again', expected: 'after the first up'}

const quoted = (values: string[]) => values.map(v => `'${v}'`).join(', ')

export function describeDifference(difference: Difference, moment: Moment): string {
  switch (difference.change) {
    case 'extra': return `${difference.object} still there ${moment.after}`.replace('still there after down and up again', 'extra after down and up again')
    case 'missing': return `${difference.object} missing ${moment.after}`
    case 'changed': {
      const show = (value: string) => value === '' ? 'none' : value.length > 80 ? `${value.slice(0, 77)}...` : value
      return `${difference.object}: ${difference.property} ${show(difference.found)} ${moment.after}, ${show(difference.expected)} ${moment.expected}`
    }
    case 'values': {
      const parts = [
        ...difference.extra.length > 0 ? [`keeps value${difference.extra.length > 1 ? 's' : ''} ${quoted(difference.extra)}`] : [],
        ...difference.missing.length > 0 ? [`lacks value${difference.missing.length > 1 ? 's' : ''} ${quoted(difference.missing)}`] : [],
        ...difference.reordered ? ['has its values in another order'] : [],
      ]
      return `${difference.object} ${parts.join(' and ')} ${moment.after}`
    }
  }
}
