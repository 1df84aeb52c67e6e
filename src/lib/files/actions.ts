import {type KindsOf, otherApp, CLOCK_SKEW_MS} from '../runner/actions.js'
import type {BucketLocator} from './bucket.js'
import {revertCounts} from './render.js'
import type {LifecycleRule} from './s3.js'

// files:recover's and files:protect's put-backs. The bucket by name: the credentials come from the app's
// config vars when they run. The S3 client is loaded only when one runs.

declare module '../runner/actions.js' {
  interface ActionKinds {
    // A delete marker again on each key it undeleted, and the versions it copied back removed. What a batch
    // cut short may have done is read back: `unsure` markers (the key is deleted again only if one of them
    // is gone), and `copies` whose version id is not known, found by reading the key: a version made since
    // `since` (ms) above `latest` with the size and ETag of `from`.
    'files-revert': {
      app: string, bucket: BucketLocator, markers: {key: string, versionIds: string[], unsure?: boolean}[], versions: {key: string, versionId: string}[],
      copies?: {key: string, from: string, latest: string, etag?: string, size?: number}[], since?: number,
    }
    // The bucket's lifecycle rules as they were (rules hold no secret).
    'files-lifecycle': {app: string, bucket: BucketLocator, rules: LifecycleRule[]}
  }
}

export const fileKinds: KindsOf<'files-revert' | 'files-lifecycle'> = {
  'files-revert': {
    title: ({markers, versions, copies}) =>
      `Put these files back as they were (${revertCounts(markers.filter(m => !m.unsure).length, versions.length, (copies?.length ?? 0) + markers.filter(m => m.unsure).length)})`,
    command: ({app}) => `heroku recovery:log --app ${app}`,
    perform: async (api, action) => (await import('./steps.js')).performRevert(api, action),
    isDone: async (api, action) => (await import('./steps.js')).isReverted(api, action),
    // Removing a version is for good: only versions this run created.
    async distrust(api, action, origin) {
      const other = otherApp(action, origin)
      if (other) return other
      const older = await (await import('./steps.js')).olderVersions(api, action, Date.parse(origin.startedAt) - CLOCK_SKEW_MS)
      return older.length > 0 ? `it would remove ${older.length} version${older.length === 1 ? '' : 's'} older than the run, the first of ${older[0]}` : undefined
    },
  },
  'files-lifecycle': {
    title: () => 'Put the lifecycle rules back as they were',
    command: ({app}) => `heroku recovery:log --app ${app}`,
    perform: async (api, action) => (await import('./protect.js')).performLifecycle(api, action),
    isDone: async (api, action) => (await import('./protect.js')).isLifecycleBack(api, action),
    distrust: async (_api, action, origin) => otherApp(action, origin),
  },
}
