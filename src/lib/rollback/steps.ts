import {explainStop} from '../abort.js'
import {Dyno, listDynos} from '../api/apps.js'
import type {Api} from '../api/client.js'
import {createRollback, recentReleases, Release, waitForRelease} from '../api/releases.js'
import {PollTimeout, StopPolling, poll} from '../poll.js'
import {formatDuration} from '../duration.js'
import type {BuildersOf} from '../runner/plan.js'
import {NoEffect, Step, StepContext} from '../runner/step.js'

// The rollback as a plan step: the call `heroku releases:rollback` makes, followed by the release phase
// and the dynos.

declare module '../runner/plan.js' {
  interface StepKinds {
    // `coupled`: the migrations the target does not know were reverted first; the release phase then
    // decides whether they stay reverted, so it is work the runner waits for (see keepsRunning).
    rollback: {app: string, current: number, target: {id: string, version: number}, coupled: boolean}
  }
}

export interface RolledBack {
  release: Release
  dynos: {name: string, state: string}[]
}

const isServing = (dyno: Dyno) => dyno.type !== 'run' && dyno.type !== 'release'

// Release phase output, printed while the release command runs; a 404 means it has not started yet.
async function streamOutput(url: string, {output, signal, timeoutMs}: StepContext) {
  const text = await poll(async () => {
    const response = await fetch(url, {signal})
    if (response.status === 404) return undefined
    return response.ok ? response.text() : ''
  }, {timeoutMs, description: 'release phase output', signal}).catch(() => '')
  if (text) output(text)
}

function waitForDynos(api: Api, app: string, version: number, {status, timeoutMs}: StepContext) {
  return poll(async () => {
    const dynos = (await listDynos(api, app)).filter(isServing)
    const crashed = dynos.filter(d => d.release.version >= version && d.state === 'crashed')
    if (crashed.length > 0) throw new StopPolling(`dynos crashed on v${version}: ${crashed.map(d => d.name).join(', ')}`)
    const up = dynos.filter(d => d.release.version >= version && d.state === 'up')
    status(`${up.length}/${dynos.length} dynos up on v${version}`)
    return up.length === dynos.length ? dynos : undefined
  }, {timeoutMs, failureBudget: 3, description: `dynos to start on v${version}`, signal: api.settings.signal})
}

export const undoCommand = (app: string, version: number) => `heroku safe-rollback v${version} --app ${app}`

// With `coupled`, the rollback's release phase is work that goes on at Heroku whatever this process does,
// and how it ends decides what is true: the runner waits for it (Ctrl-C explains and waits), and a run
// left before it ended keeps it in the run log for `recovery:resume`.
export const rollbackSteps: BuildersOf<'rollback'> = {
  rollback: ({app, current, target, coupled}) => rollbackStep(app, current, target, coupled),
}

export function rollbackStep(app: string, current: number, target: {id: string, version: number}, coupled: boolean): Omit<Step<RolledBack>, 'id'> {
  const ours = (r: Release) => r.version > current && r.description === `Rollback to v${target.version}`
  return {
    title: `Roll back to v${target.version} and wait for the release phase and the dynos`,
    command: `heroku releases:rollback v${target.version} --app ${app}`,
    apply: async ({api}) => ({release: await createRollback(api, app, target.id), dynos: []}),
    // A lost answer: the newest releases tell whether the rollback release exists.
    async observe({api}) {
      const release = (await recentReleases(api, app, 5)).find(ours)
      return release ? {applied: true, result: {release, dynos: []}} : {applied: false}
    },
    keepsRunning: ({release}) => coupled && release.status === 'pending' ? {
      running: `The release phase of v${release.version} (the rollback to v${target.version})`,
      settle: {kind: 'await-release', app, id: release.id, version: release.version, target: target.version},
      meanwhile: `${app} stays in maintenance mode until it ends. If it succeeds, v${release.version} runs v${target.version}'s code on the reverted schema; `
        + `if it fails, ${app} stays on v${current} and the reverted migrations are applied again.`,
    } : undefined,
    then: (context, {release}) => explainStop(waitUntilLive(context, release),
      `stopped waiting; v${release.version} (the rollback) was requested and may still finish: check \`heroku releases --app ${app}\``),
    undo: () => ({title: `Roll back to v${current} again`, command: undoCommand(app, current), automatic: false}),
    done: ({release, dynos}) => `v${release.version} is live; ${dynos.length} dyno(s) up`,
  }

  async function waitUntilLive(context: StepContext, requested: Release): Promise<RolledBack> {
    const {api, timeoutMs} = context
    const output = requested.output_stream_url ? streamOutput(requested.output_stream_url, context) : undefined
    context.status(`v${requested.version}: release phase running`)
    const release = await waitForRelease(api, app, requested, timeoutMs, output).catch(error => {
      throw error instanceof PollTimeout ? new Error(`v${requested.version} was still in its release phase after ${formatDuration(timeoutMs)}; it may still finish: check \`heroku releases --app ${app}\``) : error
    })
    await output
    if (release.status !== 'succeeded') {
      throw new NoEffect(`Release v${release.version} (rollback to v${target.version}) ${release.status}: its release command did not succeed; ${app} still runs v${current}, the dynos were not switched. See \`heroku releases:output v${release.version} --app ${app}\``, {release, dynos: []})
    }
    const dynos = await waitForDynos(api, app, release.version, context).catch(error => {
      const what = error instanceof PollTimeout ? `its dynos were not all up within ${formatDuration(timeoutMs)}` : (error as Error).message
      throw new Error(`Rolled back to v${target.version} as v${release.version}, but ${what}`)
    })
    return {release, dynos: dynos.map(d => ({name: d.name, state: d.state}))}
  }
}
