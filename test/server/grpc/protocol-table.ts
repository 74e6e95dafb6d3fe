/**
 * A protocol as a table of names and numbers (upstream-protocol.ts holds the
 * upstream ones), read back from a loaded definition to compare with our
 * .proto files, and turned into a definition to build a client from.
 */
import { fromJSON, type Options, type PackageDefinition, type ServiceDefinition } from '@grpc/proto-loader';

export interface ProtocolTable {
  package: string;
  service: string;
  /** method -> "Request -> Response", "stream" before a streamed side. */
  methods: Record<string, string>;
  /** message ("Outer.Inner" when nested) -> field -> "number type". */
  messages: Record<string, Record<string, string>>;
  /** message -> oneof -> its fields, in order. */
  oneofs: Record<string, Record<string, string[]>>;
  /** enum ("Outer.Enum" when nested) -> value name -> number. */
  enums: Record<string, Record<string, number>>;
}

/** The parts of a google.protobuf DescriptorProto (as proto-loader gives it) that fix the wire format. */
interface FieldDescriptor {
  name: string;
  number: number;
  label: string;
  type: string;
  typeName: string;
  oneofIndex?: number;
}
interface MessageDescriptor {
  name: string;
  field: FieldDescriptor[];
  nestedType: MessageDescriptor[];
  enumType: EnumDescriptor[];
  oneofDecl: Array<{ name: string }>;
  options?: { mapEntry?: boolean } | null;
}
interface EnumDescriptor {
  name: string;
  value: Array<{ name: string; number: number }>;
}

const scalar = (type: string): string => type.replace(/^TYPE_/, '').toLowerCase();
/** A type name as written in a .proto: relative to the package. */
const shortName = (name: string, pkg: string): string => name.replace(new RegExp(`^\\.?${pkg.replace(/\./g, '\\.')}\\.`), '');

function fieldText(field: FieldDescriptor, message: MessageDescriptor, pkg: string): string {
  const named = field.type === 'TYPE_MESSAGE' || field.type === 'TYPE_ENUM';
  const type = named ? shortName(field.typeName, pkg) : scalar(field.type);
  const entry = message.nestedType.find((n) => n.options?.mapEntry && n.name === field.typeName);
  if (entry) {
    const [key, value] = entry.field.map((f) => fieldText(f, entry, pkg).replace(/^\d+ /, ''));
    return `${field.number} map<${key}, ${value}>`;
  }
  return `${field.number} ${field.label === 'LABEL_REPEATED' ? 'repeated ' : ''}${type}`;
}

function methodText(m: ServiceDefinition[string], pkg: string): string {
  const side = (stream: boolean, name: string): string => `${stream ? 'stream ' : ''}${shortName(name, pkg)}`;
  const name = (t: unknown): string => (t as { type: { name: string } }).type.name;
  return `${side(m.requestStream, name(m.requestType))} -> ${side(m.responseStream, name(m.responseType))}`;
}

const enumValues = (e: EnumDescriptor): Record<string, number> => Object.fromEntries(e.value.map((v) => [v.name, v.number]));

/** A message, its oneofs, and its nested messages and enums (map entries are part of their field). */
function addMessage(table: ProtocolTable, name: string, message: MessageDescriptor): void {
  table.messages[name] = Object.fromEntries(message.field.map((f) => [f.name, fieldText(f, message, table.package)]));
  message.oneofDecl.forEach((oneof, i) => {
    const fields = message.field.filter((f) => f.oneofIndex === i).map((f) => f.name);
    (table.oneofs[name] ??= {})[oneof.name] = fields;
  });
  for (const nested of message.nestedType) if (!nested.options?.mapEntry) addMessage(table, `${name}.${nested.name}`, nested);
  for (const e of message.enumType) table.enums[`${name}.${e.name}`] = enumValues(e);
}

/** The table of `pkg` in a loaded definition (every message and enum under the package, and its service). */
export function tableOf(definition: PackageDefinition, pkg: string, service: string): ProtocolTable {
  const table: ProtocolTable = { package: pkg, service, methods: {}, messages: {}, oneofs: {}, enums: {} };
  for (const [key, value] of Object.entries(definition)) {
    if (!key.startsWith(`${pkg}.`)) continue;
    const name = key.slice(pkg.length + 1);
    const format = (value as { format?: string }).format;
    if (format === 'Protocol Buffer 3 DescriptorProto') addMessage(table, name, (value as { type: MessageDescriptor }).type);
    else if (format === 'Protocol Buffer 3 EnumDescriptorProto') table.enums[name] = enumValues((value as { type: EnumDescriptor }).type);
    else if (name === service) {
      const methods = value as ServiceDefinition;
      table.methods = Object.fromEntries(Object.entries(methods).map(([m, d]) => [m, methodText(d, pkg)]));
    }
  }
  return table;
}

type JsonNamespace = Parameters<typeof fromJSON>[0];
type JsonType = { fields: Record<string, object>; oneofs?: Record<string, { oneof: string[] }>; nested?: JsonNested };
type JsonNested = Record<string, JsonType | { values: Record<string, number> } | { methods: object }>;

function jsonField(text: string): object {
  const [, id, rest] = /^(\d+) (.+)$/.exec(text) ?? [];
  const map = /^map<(\w+), (\S+)>$/.exec(rest ?? '');
  if (map) return { id: Number(id), keyType: map[1], type: map[2] };
  const repeated = rest?.startsWith('repeated ');
  return { id: Number(id), type: repeated ? rest?.slice('repeated '.length) : rest, ...(repeated ? { rule: 'repeated' } : {}) };
}

/** Where "Outer.Inner" goes in the JSON tree, its outer messages made as needed. */
function place(root: JsonNested, dotted: string): [JsonNested, string] {
  const parts = dotted.split('.');
  const last = parts.pop() as string;
  let nested = root;
  for (const part of parts) {
    const outer = (nested[part] ??= { fields: {} }) as JsonType;
    nested = outer.nested ??= {};
  }
  return [nested, last];
}

/** A definition loaded from the table as proto-loader loads a .proto file, e.g. to build a client from it. */
export function definitionOf(table: ProtocolTable, options: Options): PackageDefinition {
  const root: JsonNested = {};
  for (const [dotted, fields] of Object.entries(table.messages)) {
    const [nested, name] = place(root, dotted);
    const type = (nested[name] ??= { fields: {} }) as JsonType;
    type.fields = Object.fromEntries(Object.entries(fields).map(([f, text]) => [f, jsonField(text)]));
    const oneofs = table.oneofs[dotted];
    if (oneofs) type.oneofs = Object.fromEntries(Object.entries(oneofs).map(([o, list]) => [o, { oneof: list }]));
  }
  for (const [dotted, values] of Object.entries(table.enums)) {
    const [nested, name] = place(root, dotted);
    nested[name] = { values };
  }
  const methods = Object.fromEntries(
    Object.entries(table.methods).map(([m, text]) => {
      const [request, response] = text.split(' -> ') as [string, string];
      const side = (s: string): [string, boolean] => [s.replace(/^stream /, ''), s.startsWith('stream ')];
      const [requestType, requestStream] = side(request);
      const [responseType, responseStream] = side(response);
      return [m, { requestType, responseType, ...(requestStream ? { requestStream } : {}), ...(responseStream ? { responseStream } : {}) }];
    }),
  );
  root[table.service] = { methods };
  let json: JsonNamespace = { nested: root } as JsonNamespace;
  for (const part of table.package.split('.').reverse()) json = { nested: { [part]: json } };
  return fromJSON(json, options);
}
