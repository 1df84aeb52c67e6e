import type {ClientBase} from 'pg'
import {displayName, isOwnSchema, qualified} from './schema.js'

// The sequence fence: after a point-in-time recovery the new database's sequences stand where they
// stood at the recovery point, while the old database handed out more ids after it. Advancing every
// sequence to at least the old value means a row inserted after the promote never takes an id that a
// row written after the recovery point already has (and that `db:reconcile` may carry over). Every
// schema's sequences, as db:reconcile compares every schema's tables.

export interface SequenceMove {
  // `customers_id_seq` in the connection's schema, `audit.events_id_seq` in another one.
  sequence: string
  from: string | null
  to: string
}

interface Sequence {
  schema: string
  name: string
  value: string | null
}

const readSequences = async (client: ClientBase, home: string) => new Map((await client.query<Sequence>(
  `SELECT schemaname AS schema, sequencename AS name, last_value::text AS value FROM pg_sequences
   WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND schemaname NOT LIKE 'pg\\_%'`)).rows
  .filter(s => !isOwnSchema(s.schema)).map(s => [displayName(s.schema, s.name, home), s]))

interface PlannedMove extends SequenceMove {
  schema: string
  name: string
}

// What the fence would move: sequences of both databases where the old one is ahead (or the new one unused).
export async function planFence(old: ClientBase, current: ClientBase, schema: string): Promise<PlannedMove[]> {
  const [before, now] = await Promise.all([readSequences(old, schema), readSequences(current, schema)])
  const moves: PlannedMove[] = []
  for (const [sequence, {value}] of before) {
    const mine = now.get(sequence)
    if (value === null || !mine) continue
    if (mine.value === null || BigInt(mine.value) < BigInt(value)) moves.push({sequence, from: mine.value, to: value, schema: mine.schema, name: mine.name})
  }
  return moves.sort((a, b) => a.sequence.localeCompare(b.sequence))
}

// Moves only forward, even when the new database moved on since it was planned: applying twice is harmless.
export async function applyFence(current: ClientBase, moves: PlannedMove[]): Promise<void> {
  for (const move of moves) {
    const name = qualified(move.schema, move.name)
    await current.query(`SELECT setval(c.oid, greatest($2::bigint, (SELECT coalesce(last_value, $2::bigint) FROM ${name})), true)
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $3`, [move.schema, move.to, move.name])
  }
}

export async function fenceSequences(old: ClientBase, current: ClientBase, schema: string): Promise<SequenceMove[]> {
  const moves = await planFence(old, current, schema)
  await applyFence(current, moves)
  return moves.map(({sequence, from, to}) => ({sequence, from, to}))
}
