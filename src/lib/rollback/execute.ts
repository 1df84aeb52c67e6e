import {Dyno, getApp, listDynos, setMaintenance} from '../api/apps.js'
import type {Heroku} from '../api/heroku.js'
import {Release, createRollback, waitForRelease} from '../api/releases.js'
import {withRestore} from '../cleanup.js'
import {SafeRollbackError} from '../errors.js'
import {formatDuration} from '../duration.js'
import {PollTimeout, StopPolling, poll} from '../poll.js'

export interface ExecuteOptions {
  maintenance: boolean
  waitTimeoutMs: number
  undo: string
  currentVersion: number
  onStatus?: (message: string) => void
  onOutput?: (text: string) => void
}

export interface RollbackOutcome {
  release: {id: string, version: number, status: string}
  dynos: {name: string, state: string}[]
  maintenance: 'not used' | 'turned off again' | 'left on (it was on before)'
}

const isServing = (dyno: Dyno) => dyno.type !== 'run' && dyno.type !== 'release'

// Release phase output, printed while the release command runs; a 404 means it has not started yet.
async function streamOutput(url: string, onOutput: (text: string) => void, timeoutMs: number) {
  const text = await poll(async () => {
    const response = await fetch(url)
    if (response.status === 404) return undefined
    return response.ok ? response.text() : ''
  }, {timeoutMs, description: 'release phase output'}).catch(() => '')
  if (text) onOutput(text)
}

async function waitForDynos(heroku: Heroku, app: string, version: number, timeoutMs: number, onStatus?: (message: string) => void) {
  return poll(async () => {
    const dynos = (await listDynos(heroku, app)).filter(isServing)
    const crashed = dynos.filter(d => d.release.version >= version && d.state === 'crashed')
    if (crashed.length > 0) throw Object.assign(new StopPolling(crashed.map(d => d.name).join(', ')), {crashed: true})
    const up = dynos.filter(d => d.release.version >= version && d.state === 'up')
    onStatus?.(`${up.length}/${dynos.length} dynos up on v${version}`)
    return up.length === dynos.length ? dynos : undefined
  }, {timeoutMs, failureBudget: 3, description: `dynos to start on v${version}`})
}

// Rolls back with the call `heroku releases:rollback` makes, then waits until the new release has
// succeeded and its dynos are up. Maintenance mode, when asked for, is on only for the duration.
export async function executeRollback(heroku: Heroku, app: string, target: Release, options: ExecuteOptions): Promise<RollbackOutcome> {
  const wasInMaintenance = options.maintenance ? (await getApp(heroku, app)).maintenance : false
  let maintenance: RollbackOutcome['maintenance'] = 'not used'
  let requested: Release | undefined
  let finished = false
  const restoreMaintenance = async () => {
    const pending = requested && !finished
      ? `The rollback was already requested as v${requested.version} and may still finish: check \`heroku releases --app ${app}\`.` : ''
    if (!options.maintenance || wasInMaintenance) return [pending, options.maintenance ? 'Maintenance mode is on, as it was before.' : ''].filter(Boolean).join(' ') || undefined
    await setMaintenance(heroku, app, false)
    maintenance = 'turned off again'
    return [pending, 'Maintenance mode is off again.'].filter(Boolean).join(' ')
  }

  const outcome = await withRestore(restoreMaintenance, async () => {
    if (options.maintenance && !wasInMaintenance) {
      options.onStatus?.('turning maintenance mode on')
      await setMaintenance(heroku, app, true)
    }
    if (wasInMaintenance) maintenance = 'left on (it was on before)'
    options.onStatus?.(`rolling back to v${target.version}`)
    let release = await createRollback(heroku, app, target.id).catch(error => {
      throw new SafeRollbackError(`The rollback request failed: ${(error as Error).message}`, `${app} still runs v${options.currentVersion}; nothing was rolled back.`)
    })
    requested = release
    const output = release.output_stream_url && options.onOutput ? streamOutput(release.output_stream_url, options.onOutput, options.waitTimeoutMs) : undefined
    options.onStatus?.(`v${release.version}: release phase running`)
    release = await waitForRelease(heroku, app, release, options.waitTimeoutMs)
    finished = true
    await output
    if (release.status !== 'succeeded') {
      throw new SafeRollbackError(`Release v${release.version} (rollback to v${target.version}) ${release.status}: its release command did not succeed.`,
        `${app} still runs v${options.currentVersion}; the dynos were not switched. See \`heroku releases:output v${release.version} --app ${app}\`.`)
    }
    const dynos = await waitForDynos(heroku, app, release.version, options.waitTimeoutMs, options.onStatus).catch(error => {
      const what = (error as {crashed?: boolean}).crashed ? `dynos crashed on v${release.version}: ${(error as Error).message}`
        : error instanceof PollTimeout ? `its dynos were not all up within ${formatDuration(options.waitTimeoutMs)}` : (error as Error).message
      throw new SafeRollbackError(`Rolled back to v${target.version} as v${release.version}, but ${what}.`,
        `${app} runs v${release.version} (the rollback). To undo: ${options.undo}`)
    })
    return {release: {id: release.id, version: release.version, status: release.status}, dynos: dynos.map(d => ({name: d.name, state: d.state}))}
  })
  return {...outcome, maintenance}
}
