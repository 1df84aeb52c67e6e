import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

// --write: a generated down goes beside its migration.sql as down.sql, once it is proven to revert its
// migration exactly, and never over an existing file. A down the check found wrong is not written: as a
// file it would pass for a reviewed, hand-written one the next time.

export interface GeneratedDown {
  migration: string
  dir: string
  sql: string
  // The staircase's verdict on it: 'reverts' is the only one that gets written.
  verdict?: string
}

export type WriteResult = {migration: string, path: string, written: true} | {migration: string, path: string, written: false, reason: string}

export function writeGeneratedDowns(downs: GeneratedDown[]): WriteResult[] {
  return downs.map(down => {
    const path = join(down.dir, 'down.sql')
    if (down.verdict !== 'reverts') {
      const why = down.verdict === undefined ? 'it was not checked (--skip-down-check)' : 'the check found it wrong (see above): fix it by hand first'
      return {migration: down.migration, path, written: false, reason: `not written: ${why}`}
    }
    try {
      // 'wx': refused when the file exists, in one step (no check-then-write race).
      writeFileSync(path, down.sql, {flag: 'wx'})
      return {migration: down.migration, path, written: true}
    } catch (error) {
      const code = (error as {code?: string}).code
      return {migration: down.migration, path, written: false, reason: code === 'EEXIST' ? 'not written: a down.sql is already there (never overwritten)' : `not written: ${(error as Error).message}`}
    }
  })
}

export const describeWrites = (results: WriteResult[]): string[] => results.map(r => r.written ? `Wrote ${r.path}` : `${r.path}: ${r.reason}`)
