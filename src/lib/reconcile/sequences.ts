import type {ClientBase} from 'pg'
import {qualified} from './schema.js'

// The sequence fence: after a point-in-time recovery the new database's sequences stand where they
// stood at the recovery point, while the old database handed out more ids after it. Advancing every
// sequence to at least the old value means a row inserted after the promote never takes an id that a
// row written after the recovery point already has (and that `db:reconcile` may carry over).

export interface SequenceMove {
  sequence: string
  from: string | null
  to: string
}

const readSequences = async (client: ClientBase, schema: string) => new Map((await client.query<{name: string, value: string | null}>(
  'SELECT sequencename AS name, last_value::text AS value FROM pg_sequences WHERE schemaname = $1', [schema])).rows.map(r => [r.name, r.value]))

// What the fence would move: sequences of both databases where the old one is ahead (or the new one unused).
export async function planFence(old: ClientBase, current: ClientBase, schema: string): Promise<SequenceMove[]> {
  const [before, now] = await Promise.all([readSequences(old, schema), readSequences(current, schema)])
  const moves: SequenceMove[] = []
  for (const [sequence, value] of before) {
    if (value === null || !now.has(sequence)) continue
    const mine = now.get(sequence)!
    if (mine === null || BigInt(mine) < BigInt(value)) moves.push({sequence, from: mine, to: value})
  }
  return moves.sort((a, b) => a.sequence.localeCompare(b.sequence))
}

// Moves only forward, even when the new database moved on since it was planned: applying twice is harmless.
export async function applyFence(current: ClientBase, schema: string, moves: SequenceMove[]): Promise<void> {
  for (const move of moves) {
    const name = qualified(schema, move.sequence)
    await current.query(`SELECT setval(c.oid, greatest($2::bigint, (SELECT coalesce(last_value, $2::bigint) FROM ${name})), true)
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $3`, [schema, move.to, move.sequence])
  }
}

export async function fenceSequences(old: ClientBase, current: ClientBase, schema: string): Promise<SequenceMove[]> {
  const moves = await planFence(old, current, schema)
  await applyFence(current, schema, moves)
  return moves
}
