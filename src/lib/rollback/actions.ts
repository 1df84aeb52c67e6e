import {getRelease, waitForRelease} from '../api/releases.js'
import {type KindsOf, otherApp} from '../runner/actions.js'

// A rollback's release phase as work that runs at Heroku once the release exists: it ends succeeded (the
// release is live) or failed (it never was, and the app runs the release before it).

declare module '../runner/actions.js' {
  interface ActionKinds {
    // `target`: the release a rollback goes back to (its code runs once this release is live).
    'await-release': {app: string, id: string, version: number, target?: number}
  }
}

export const rollbackKinds: KindsOf<'await-release'> = {
  'await-release': {
    title: ({version, target}) => `Wait for the release phase of v${version}${target === undefined ? '' : ` (the rollback to v${target})`} to finish`,
    command: ({app, version}) => `heroku releases:info v${version} --app ${app}`,
    async perform(api, {app, id, version}, {timeoutMs, status}) {
      status?.(`v${version}: release phase running`)
      const ended = await waitForRelease(api, app, await getRelease(api, app, id), timeoutMs)
      return ended.status === 'succeeded'
        ? {tookEffect: true, said: `v${version} (${ended.description}) succeeded: it is live`}
        : {tookEffect: false, said: `v${version} (${ended.description}) ${ended.status}: its release command did not succeed, so ${app} still runs the release before it`}
    },
    isDone: async (api, {app, id}) => (await getRelease(api, app, id)).status !== 'pending',
    // A wait changes nothing; it must still be about the run's app.
    distrust: async (_api, action, origin) => otherApp(action, origin),
  },
}
