// What a check found, as the preview and `--json` report it.
export interface Check {
  name: string
  outcome: 'passed' | 'failed' | 'skipped' | 'warning'
  detail: string
}

export const blocking = (checks: Check[]) => checks.filter(c => c.outcome === 'failed')
