import type {Check} from './checks.js'
import type {Planned} from './runner/plan.js'
import type {RunOutcome} from './runner/runner.js'
import type {Step} from './runner/step.js'

// The one contract of every command that changes something: gather (reads only) → ask (a person's
// choices, src/lib/prompts.ts) → plan (pure: this) → render → apply (the runner interprets the plan's
// steps) → JSON from the same plan and outcome. The plan printed is the plan applied.

export interface Plan {
  app: string
  // One line for recovery:log: 'roll back to v50'.
  what: string
  checks: Check[]
  steps: Planned[]
  // The exact command that carries out this plan, as --dry-run suggests it.
  rerun: string[]
  // Said before the confirmation prompt; none for a plan that changes nothing of the app (a health
  // watch), which runs without asking.
  confirm?: string
  // The longest a wait for work at Heroku may take.
  timeoutMs: number
}

// How a command shows its plan and what became of it. `steps` are the plan's steps as the runner will
// run them (their titles and undos come from them).
export interface View<P extends Plan> {
  preview(plan: P, steps: Step<any>[]): string
  // The one-line refusal when a check fails; the failed checks' details by default.
  refusal?(plan: P, failed: Check[]): string
  // Said on stderr before the confirmation.
  warnings?(plan: P): string[]
  // Said when the plan has no step.
  nothingToDo?(plan: P): string
  // Said instead of the changes with --dry-run; `command` carries the plan out. By default:
  // 'Dry run: nothing was changed. To do exactly this: COMMAND'.
  dryRun?(plan: P, command: string): string
  closing(plan: P, outcome: RunOutcome): string
  // Said after the run's own account when it did not succeed: what its steps alone do not make plain.
  unfinished?(plan: P, outcome: RunOutcome): string[]
  // Said on stderr after the closing message (an inconclusive verdict).
  afterwards?(plan: P, outcome: RunOutcome): string[]
  json(plan: P, steps: Step<any>[], outcome?: RunOutcome): Record<string, unknown>
}
