import type {Action} from './actions.js'
import type {Undo} from './step.js'

// The one account of what a run's steps left: which changes still stand, which of their undos are due
// (performed by the runner itself, or later by recovery:resume), which stay done and how to take them
// back, and which work still runs at Heroku. The runner keeps it live; the run log folds into the same
// entries; recovery:log, recovery:resume and files:recover --undo read it.

export type StepState = 'not run' | 'started' | 'done' | 'failed' | 'unknown' | 'interrupted' | 'undone' | 'undo failed' | 'left running'

export interface Entry {
  id: string
  state: StepState
  // Its change exists (it may have failed after making it).
  applied?: boolean
  // Part of its change may exist: it never reported back, or failed with its outcome unknown; `undo` is
  // then the one it gave before it ran (Step.undoPartial), which reads back what was made.
  partial?: boolean
  undo?: Undo
  // Work it started that goes on at Heroku until it settles (a restore).
  running?: {running: string, settle: Action}
  settled?: boolean
  // A later step of the run put it back (maintenance off after maintenance on).
  putBack?: boolean
  // The earlier steps whose changes this one relies on (see Step.needs).
  needs?: string[]
}

// Work it started that still goes on at Heroku (a restore, a release phase).
const isRunning = (entry: Entry) => Boolean(entry.running && !entry.settled)

// What later changes rely on: those that exist and have settled. Work still running may yet end without
// effect (a release phase that fails), so what only it relies on is not kept for it (see keptFor).
const neededBy = (entries: Entry[]) => new Set(entries.filter(e => e.applied && !isRunning(e)).flatMap(e => e.needs ?? []))

// Its change, or part of it, may exist.
export const mayHaveChanged = (entry: Entry) => Boolean(entry.applied || entry.partial)

// Changes that still stand (or may) and have an undo, newest first.
export const standing = <E extends Entry>(entries: E[]): E[] =>
  entries.filter(e => mayHaveChanged(e) && e.state !== 'undone' && e.undo && !e.putBack).reverse()

// The automatic undos a run that did not succeed owes, newest first: not those a later change relies on.
export function due<E extends Entry>(entries: E[]): E[] {
  const needed = neededBy(entries)
  return standing(entries).filter(e => e.undo!.automatic && !needed.has(e.id))
}

// What stays done, with the command that takes it back, newest first. Not yet known for work still
// running and for what it relies on: that depends on how the work ends.
export function kept<E extends Entry>(entries: E[]): E[] {
  const needed = neededBy(entries)
  return standing(entries).filter(e => (!e.undo!.automatic || needed.has(e.id)) && !isRunning(e) && keptFor(entries, e).length === 0)
}

export const unsettled = <E extends Entry>(entries: E[]): E[] => entries.filter(isRunning)

// The work still running that relies on this change: its put-back is due only if all of it ends without effect.
export const keptFor = <E extends Entry>(entries: E[], entry: Entry): E[] => unsettled(entries).filter(e => e.needs?.includes(entry.id))
