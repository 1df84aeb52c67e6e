// Words the comparison's summary, its plan and its steps share.

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`

export const rows = (n: number) => plural(n, 'row')

// How the comparison was made, in one line: what --dry-run, the summary and the folder say first.
export function describeAgainst(summary: {base?: {run: string, recoveryPoint: string, recordedAt: string} | null, prefer?: string | null}): string {
  if (summary.base) return `three-way (base from run ${summary.base.run} at ${summary.base.recoveryPoint}, recorded ${summary.base.recordedAt})`
  return `two-way (no base)${summary.prefer ? `, --prefer ${summary.prefer}` : ''}`
}
