// What a release's code expects of the database: the tables, columns and enums its Prisma schema maps,
// read from the schema files at that release's commit (see source.ts).

export interface ExpectedColumn {
  field: string
  column: string
  // A Prisma scalar (String, Int...) or the name of an enum of the schema.
  type: string
  enum?: string
  required: boolean
  list: boolean
  // The column gets a value without the code naming it: @default, @updatedAt, or a database default.
  hasDefault: boolean
  // @db.VarChar(50) as {name: 'VarChar', args: ['50']}.
  native?: {name: string, args: string[]}
}

export interface ExpectedTable {
  model: string
  table: string
  schema?: string
  columns: ExpectedColumn[]
}

export interface ExpectedEnum {
  name: string
  dbName: string
  schema?: string
  // The values as stored (@map honoured).
  values: string[]
}

export interface ExpectedSchema {
  tables: ExpectedTable[]
  enums: ExpectedEnum[]
}

const PRISMA_AST_ESM = '@mrleebo/prisma-ast/dist/prisma-ast.esm.js'
const SCALARS = new Set(['String', 'Int', 'BigInt', 'Float', 'Decimal', 'Boolean', 'DateTime', 'Json', 'Bytes'])

const unquote = (value: unknown) => typeof value === 'string' ? value.replace(/^"(.*)"$/, '$1') : undefined
const attribute = (node: any, name: string, group?: string) =>
  (node.attributes ?? node.properties ?? []).find((a: any) => a.type === 'attribute' && a.name === name && (group === undefined || a.group === group))
const firstArg = (attr: any) => unquote(attr?.args?.[0]?.value)

// Parses the schema files of one release (a schema may be split into several .prisma files).
export async function expectedSchema(files: {path: string, text: string}[]): Promise<ExpectedSchema> {
  // The package's ES module build: its CommonJS entry require()s chevrotain, which ships only as ES modules.
  const {getSchema}: typeof import('@mrleebo/prisma-ast') = await import(PRISMA_AST_ESM)
  const blocks = files.flatMap(file => {
    try {
      return getSchema(file.text).list as any[]
    } catch (error) {
      throw new Error(`${file.path} is not a Prisma schema this tool can read: ${(error as Error).message.split('\n')[0]}`)
    }
  })
  const models = blocks.filter(b => b.type === 'model')
  const modelNames = new Set(models.map(m => m.name as string))
  const enums: ExpectedEnum[] = blocks.filter(b => b.type === 'enum').map(e => ({
    name: e.name,
    dbName: firstArg(attribute({attributes: e.enumerators}, 'map')) ?? e.name,
    schema: firstArg(attribute({attributes: e.enumerators}, 'schema')),
    values: e.enumerators.filter((v: any) => v.type === 'enumerator').map((v: any) => firstArg(attribute(v, 'map')) ?? v.name),
  }))
  const enumNames = new Set(enums.map(e => e.name))

  const tables: ExpectedTable[] = models.map(model => {
    const fields = (model.properties as any[]).filter(p => p.type === 'field')
    const columns = fields.filter(f => !modelNames.has(f.fieldType) && (SCALARS.has(f.fieldType) || enumNames.has(f.fieldType))).map(f => {
      const native = (f.attributes ?? []).find((a: any) => a.group === 'db')
      return {
        field: f.name,
        column: firstArg(attribute(f, 'map')) ?? f.name,
        type: f.fieldType,
        enum: enumNames.has(f.fieldType) ? f.fieldType : undefined,
        required: !f.optional,
        list: Boolean(f.array),
        hasDefault: Boolean(attribute(f, 'default') || attribute(f, 'updatedAt')),
        native: native ? {name: native.name, args: (native.args ?? []).map((a: any) => String(a.value))} : undefined,
      }
    })
    return {model: model.name, table: firstArg(attribute(model, 'map')) ?? model.name, schema: firstArg(attribute(model, 'schema')), columns}
  })
  return {tables: [...tables, ...implicitManyToMany(models, modelNames, tables)], enums}
}

// A many-to-many relation without a relation model is a table Prisma names `_AToB` (or `_Name`), with
// columns A and B pointing at the two models' ids, A being the model first in alphabetical order.
function implicitManyToMany(models: any[], modelNames: Set<string>, tables: ExpectedTable[]): ExpectedTable[] {
  const found = new Map<string, ExpectedTable>()
  for (const model of models) {
    for (const field of model.properties.filter((p: any) => p.type === 'field' && p.array && modelNames.has(p.fieldType))) {
      const other = models.find(m => m.name === field.fieldType)
      const back = other.properties.find((p: any) => p.type === 'field' && p.fieldType === model.name && p.array)
      const relation = attribute(field, 'relation')
      if (!back || relation?.args?.some((a: any) => a.value?.key === 'fields')) continue
      const [a, b] = [model.name, other.name].sort()
      const name = `_${unquote(relation?.args?.find((x: any) => typeof x.value === 'string')?.value) ?? `${a}To${b}`}`
      const idOf = (modelName: string) => tables.find(t => t.model === modelName)?.columns.find(c => c.field === idField(models.find(m => m.name === modelName)))
      const column = (columnName: string, modelName: string): ExpectedColumn => ({
        field: columnName, column: columnName, type: idOf(modelName)?.type ?? 'Int', required: true, list: false, hasDefault: false, native: idOf(modelName)?.native,
      })
      found.set(name, {model: `${a}<->${b}`, table: name, schema: firstArg(attribute(model, 'schema')), columns: [column('A', a), column('B', b)]})
    }
  }
  return [...found.values()]
}

const idField = (model: any) => model.properties.find((p: any) => p.type === 'field' && attribute(p, 'id'))?.name
