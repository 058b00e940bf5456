// checkpoint-studio export: a checkpoint (ours, imported, or another program's anywhere) written
// as a TensorFlow bundle, a TensorFlow.js model or one safetensors file, through one Studio call.
import { type Command, Option } from 'commander';
import { EXPORT_FORMATS, type ExportFormat } from '../contract.js';
import { type ActionContext, type CommonOptions, type Output, stderr, studioAction, withCommon } from './common.js';

export function registerExportCommand(program: Command, out: Output): void {
  withCommon(
    program
      .command('export')
      .description('write a checkpoint in another format: a TensorFlow checkpoint (tf), a TensorFlow.js model (tfjs) or a safetensors file'),
  )
    .argument(
      '<checkpoint>',
      "a checkpoint id, latest, best, a checkpoint folder, or another program's checkpoint (a TensorFlow prefix, model.json, .safetensors…)",
    )
    .argument('<out>', 'where to write: a new folder (tf, tfjs) or a new .safetensors file; never overwritten')
    .addOption(new Option('--format <format>', 'tf, tfjs or safetensors').choices(EXPORT_FORMATS).makeOptionMandatory())
    .action(
      studioAction(
        'read',
        async (target: string, destination: string, options: CommonOptions & { format: ExportFormat }, { api }: ActionContext) => {
          const result = await api.exportCheckpoint({ target, format: options.format, out: destination });
          if (options.json) out.json(result);
          else {
            for (const note of result.notes) stderr.line(`note: ${note}`);
            out.line(`exported step ${result.step} (${result.tensors} tensors) as ${result.format} to ${result.out}`);
            for (const file of result.files) out.line(`  ${file}`);
          }
          return 0;
        },
        { optional: () => true },
      ),
    );
}
