import type {Actions} from '../runner/actions.js'
import {recordJson} from '../runner/history.js'
import type {RunEvent, RunRecord} from '../runner/log.js'
import {printable} from '../names.js'
import {type Health, healthOf} from './notice.js'

// A run as the postmortem tells it (`heroku recovery:log RUN --format markdown|json`): when it began and
// who ran it, the checks and warnings before it, each step with its outcome and how long it took, the
// put-backs, what was told to whom, the health verdict, what is left and the commands that undo it, and
// the commands a person would type to do the same. All from the run's log; times in UTC.

export interface Row {
  at: string
  // A step of the run, a put-back, an event told to the incident, or the run itself beginning and ending.
  kind: 'run' | 'step' | 'put back' | 'told'
  what: string
  outcome?: string
  tookMs?: number
  // What a person would type for the same, when one command does it.
  command?: string
}

export interface Timeline {
  run: string
  app: string
  command: string
  what: string
  who: string
  startedAt: string
  endedAt: string | null
  durationMs: number | null
  status: string
  message: string | null
  checks: {name: string, outcome: string, detail: string}[]
  warnings: string[]
  rows: Row[]
  health: Health | null
  // What stays changed, what was put back, and what is left to finish (with the commands).
  changed: string[]
  undone: string[]
  unfinished: string[]
  finish: string[]
  undo: string[]
  // The commands for the steps as they ran, in order; a step no single command does is named in a comment.
  byHand: string[]
  // The command that carries out the same plan again.
  rerun: string | null
}

type Of<K extends RunEvent['event']> = Extract<RunEvent, {event: K}>

export function timelineOf(actions: Actions, record: RunRecord, events: RunEvent[]): Timeline {
  const begin = events.find((e): e is Of<'begin'> => e.event === 'begin')!
  const steps = new Map(record.steps.map(s => [s.id, s]))
  const rows: Row[] = []
  const open = new Map<string, Row>()
  const undoOf = (id: string) => {
    const undo = steps.get(id)?.undo
    return {title: undo?.action ? actions.title(undo.action) : undo?.title ?? 'its undo', command: undo?.action ? actions.command(undo.action) : undo?.command}
  }
  const close = (key: string, at: string, outcome: string) => {
    const row = open.get(key)
    if (!row) return
    Object.assign(row, {outcome, tookMs: Date.parse(at) - Date.parse(row.at)})
    open.delete(key)
  }
  const notices = new Map<number, Row>()
  for (const event of events) {
    switch (event.event) {
      case 'begin': rows.push({at: event.at, kind: 'run', what: `${event.command} started by ${event.who}: ${event.what}`}); break
      case 'continued': rows.push({at: event.at, kind: 'run', what: `Continued by ${event.who}`}); break
      case 'started': {
        const step = steps.get(event.step)
        const row: Row = {at: event.at, kind: 'step', what: step?.title ?? event.step, outcome: 'started, never reported back', command: step?.command}
        rows.push(row)
        open.set(event.step, row)
        break
      }
      case 'done': close(event.step, event.at, event.note ? `done: ${event.note}` : 'done'); break
      case 'failed': close(event.step, event.at, event.applied === 'unknown' ? `outcome unknown: ${event.error}` : `failed: ${event.error}`); break
      case 'undo-started': {
        const undo = undoOf(event.step)
        const row: Row = {at: event.at, kind: 'put back', what: `Put back: ${undo.title}`, outcome: 'started, never reported back', command: undo.command}
        rows.push(row)
        open.set(`undo ${event.step}`, row)
        break
      }
      case 'undone': {
        if (open.has(`undo ${event.step}`)) close(`undo ${event.step}`, event.at, 'done, read back')
        else rows.push({at: event.at, kind: 'put back', what: `Put back: ${undoOf(event.step).title}`, outcome: `done${event.by ? ` by run ${event.by}` : ''}`, command: undoOf(event.step).command})
        break
      }
      case 'undo-failed': close(`undo ${event.step}`, event.at, `failed: ${event.error}`); break
      case 'settled': if (event.by) rows.push({at: event.at, kind: 'run', what: `${steps.get(event.step)?.title ?? event.step}: its work at Heroku ended`, outcome: `seen by run ${event.by}`}); break
      case 'end': rows.push({
        at: event.at, kind: 'run', what: event.by ? `Finished by run ${event.by}` : 'Run ended', outcome: `${event.status}${event.message ? `: ${event.message}` : ''}`,
        tookMs: Date.parse(event.at) - Date.parse(begin.at),
      }); break
      case 'notice': {
        const row: Row = {at: event.at, kind: 'told', what: `Told: ${String(event.notice.summary ?? event.notice.type)}`, outcome: ''}
        rows.push(row)
        notices.set(event.seq, row)
        break
      }
      case 'notified': {
        const row = notices.get(event.seq)
        if (row) row.outcome = [row.outcome, `${event.label}: ${event.status}${event.why ? ` (${event.why})` : ''}`].filter(Boolean).join('; ')
        break
      }
    }
  }
  const json = recordJson(actions, record)
  const started = Date.parse(record.startedAt)
  return {
    run: record.id, app: record.app, command: record.command, what: record.what, who: record.who,
    startedAt: record.startedAt, endedAt: record.endedAt ?? null, durationMs: record.endedAt ? Date.parse(record.endedAt) - started : null,
    status: record.status, message: record.message ?? null,
    checks: begin.checks ?? [], warnings: begin.warnings ?? [], rows,
    health: healthOf(record.steps.map(s => s.result)) ?? null,
    changed: record.steps.filter(s => s.state === 'done').map(s => s.title),
    undone: record.steps.filter(s => s.state === 'undone').map(s => `${s.title} (${undoOf(s.id).title.toLowerCase()})`),
    unfinished: json.unfinished, finish: json.finish, undo: json.undo,
    byHand: rows.filter(r => r.kind === 'step' || r.kind === 'put back').map(r => r.command ?? `# ${r.what}: no single command`),
    rerun: begin.rerun ?? null,
  }
}

// Times as the postmortem reads them: the day once, then the time of day (with its day when it changes).
const day = (iso: string) => iso.slice(0, 10)
const clock = (iso: string, first: string) => day(iso) === day(first) ? iso.slice(11, 19) : `${day(iso)} ${iso.slice(11, 19)}`
const utc = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`

const took = (ms: number) => ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.floor(ms / 60_000)}m ${Math.round((ms % 60_000) / 1000)}s`

// A table cell: one line, its pipes escaped, no control character.
const cell = (text: string) => printable(text).replace(/\\n/g, ' ').replace(/\|/g, '\\|')
const item = (text: string) => printable(text)

const MARKS: Record<string, string> = {passed: '✓', failed: '✗', warning: '!', skipped: '-'}

export function timelineMarkdown(t: Timeline): string {
  const section = (title: string, lines: string[]) => lines.length > 0 ? ['', `### ${title}`, '', ...lines] : []
  const commands = (list: string[]) => ['```sh', ...list.map(item), '```']
  return [
    `## ${item(t.command)} on ${item(t.app)}: ${item(t.what)}`,
    '',
    `- **Outcome:** ${item(t.status)}${t.message ? `: ${item(t.message)}` : ''}`,
    `- **Run:** \`${item(t.run)}\` (\`heroku recovery:log ${item(t.run)}\`)`,
    `- **Who:** ${item(t.who)}`,
    `- **Started:** ${utc(t.startedAt)}`,
    `- **Ended:** ${t.endedAt ? `${utc(t.endedAt)} (${took(t.durationMs!)})` : 'not recorded'}`,
    ...(t.health ? [`- **Health:** ${t.health.verdict}: ${item(t.health.reason)}`] : []),
    ...section('Checks', t.checks.map(c => `- ${MARKS[c.outcome] ?? '-'} ${item(c.name)}: ${item(c.detail)}`)),
    ...section('Warnings', t.warnings.map(w => `- ${item(w)}`)),
    ...section('Timeline (UTC)', [
      '| Time | What | Outcome | Took |',
      '| --- | --- | --- | --- |',
      ...t.rows.map(r => `| ${clock(r.at, t.startedAt)} | ${cell(r.what)} | ${cell(r.outcome ?? '')} | ${r.tookMs === undefined ? '' : took(r.tookMs)} |`),
    ]),
    ...section('Changed', t.changed.map(c => `- ${item(c)}`)),
    ...section('Put back', t.undone.map(c => `- ${item(c)}`)),
    ...section('Left to do', t.unfinished.length > 0 ? [...t.unfinished.map(c => `- ${item(c)}`), '', ...commands(t.finish)] : []),
    ...section('To undo', t.undo.length > 0 ? commands(t.undo) : []),
    ...section('By hand', t.byHand.length > 0 ? ['The commands a person would type to do the same:', '', ...commands(t.byHand)] : []),
    ...section('Again', t.rerun ? ['The command that carries out the same plan:', '', ...commands([t.rerun])] : []),
  ].join('\n')
}
