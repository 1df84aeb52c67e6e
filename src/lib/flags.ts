import {Flags, flags} from './heroku.js'

// The flags every guarded command shares, each with one description, spread into a command's `flags`.

export const appFlags = {
  app: flags.app({required: true}),
  remote: flags.remote(),
}

export const guardFlags = {
  confirm: Flags.string({description: 'the app name, to go ahead without being asked (for scripts and CI)'}),
  'dry-run': Flags.boolean({description: 'run every check and show the plan; change nothing'}),
}

export const backupFlags = {
  'max-backup-age': Flags.string({description: 'the newest successful backup of each database must be younger than this', default: '24h'}),
  'capture-backup': Flags.boolean({description: 'capture a fresh backup first (after the confirmation) of each database whose newest one is too old', exclusive: ['skip-backup-check']}),
  'skip-backup-check': Flags.boolean({description: 'do not require a recent backup (not recommended)'}),
}

// How long waits for work at Heroku may take, with the command's own default.
export const waitTimeoutFlag = (fallback: string) =>
  ({'wait-timeout': Flags.string({description: 'how long to wait for work at Heroku to finish (and for each request)', default: fallback})})

// Where the run's events go for the people following the incident (src/lib/notify).
export const notifyFlag = {
  notify: Flags.string({
    description: 'tell pagerduty, slack, datadog or an http(s):// URL when the run starts, is refused and ends (repeatable; default: HEROKU_SAFE_ROLLBACK_NOTIFY, comma-separated; none: nobody)',
    multiple: true,
  }),
}
