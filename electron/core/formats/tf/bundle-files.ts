// File names of a bundle (tensor_bundle/naming.cc: MetaFilename, DataFilename).
export function indexFileName(prefix: string): string {
  return `${prefix}.index`;
}

export function dataFileName(prefix: string, shard: number, numShards: number): string {
  return `${prefix}.data-${String(shard).padStart(5, '0')}-of-${String(numShards).padStart(5, '0')}`;
}

export const DATA_FILE_PATTERN = /^(.*)\.data-(\d{5,})-of-(\d{5,})$/;

/** The highest shard count the %05d names can spell. */
export const MAX_SHARDS = 99999;
