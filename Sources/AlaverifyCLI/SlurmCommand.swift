import AlaverifyBase
import ArgumentParser
import Foundation
import Shards

/// `alaverify slurm`: job scripts for a sharded evaluation on a Slurm cluster.
struct SlurmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slurm",
        abstract: "Write Slurm job scripts that score all pairs in shards and merge them into exact metrics.",
        discussion: """
            Arguments after -- are those of 'alaverify score' (model, data, split, templates, ...). \
            Writes into DIR: shards.sbatch (an array job: task i runs 'score ... --shard auto' and \
            writes DIR/scores.shard-i-of-N.h5), merge.sbatch ('metrics --merge' of the N shards with \
            the metric options given here, writing DIR/metrics.json) and submit.sh, which submits \
            both with the merge depending on every shard (--dependency=afterok, \
            --kill-on-invalid-dep=yes): a failed shard cancels the merge, so no metrics.json is \
            written from partial data. Jobs log to DIR/logs. Run 'bash DIR/submit.sh' on a login \
            node; when the merge job is done, DIR/metrics.json is what 'metrics' gives on the \
            unsharded scores (with --ci conservative) and 'gate --metrics' and 'report' read it.

            Examples:
              alaverify slurm --shards 64 --out eval --far 1e-4 -- --model runs/ala --data cjk.h5 --split all
              alaverify slurm --shards 8 --out eval --sbatch --partition=cpu --sbatch --time=1:00:00 -- --model runs/ala
            """)

    @Option(help: "The number of shards (array tasks).")
    var shards: Int

    @Option(help: "The job folder (created if missing; no whitespace in its path).")
    var out: String

    @Option(name: .customLong("sbatch"), parsing: .unconditionalSingleValue, help: "An sbatch option for both jobs, e.g. --partition=cpu (repeatable).")
    var sbatchOptions: [String] = []

    @Option(name: .customLong("shard-sbatch"), parsing: .unconditionalSingleValue, help: "An sbatch option for the shard tasks only, e.g. --cpus-per-task=4 (repeatable).")
    var shardSbatchOptions: [String] = []

    @Option(help: "OpenBLAS kernels every job uses (OPENBLAS_CORETYPE, e.g. Haswell): shards and merge must compute the same bits, which nodes of different CPUs do not without it.")
    var openblasCoretype: String?

    @Option(help: "The alaverify executable the jobs run (default: this one).")
    var alaverify: String?

    @OptionGroup var selection: MetricSelectionOptions

    @Argument(parsing: .postTerminator, help: "Arguments of 'alaverify score' (after --).")
    var scoreArguments: [String] = []

    func validate() throws {
        guard shards >= 1 else { throw ValidationError("--shards must be at least 1, got \(shards)") }
        guard !scoreArguments.isEmpty else { throw ValidationError("give the arguments of 'alaverify score' after --, e.g. -- --model runs/ala --data F.h5") }
        for forbidden in ["--shard", "--shards", "--out"] where scoreArguments.contains(where: { $0 == forbidden || $0.hasPrefix(forbidden + "=") }) {
            throw ValidationError("\(forbidden) is set by the jobs; leave it out of the score arguments")
        }
        guard scoreArguments.contains(where: { $0 == "--data" || $0.hasPrefix("--data=") }) else {
            throw ValidationError("give --data in the score arguments: the jobs run in the job folder, where a model's recorded data path may not lead")
        }
        guard !out.contains(where: \.isWhitespace) else { throw ValidationError("--out \(out): the job folder's path must not contain whitespace (#SBATCH lines cannot quote it)") }
    }

    func run() throws {
        // The score arguments must parse as 'score' would (with the options the jobs add).
        do { _ = try ScoreCommand.parse(scoreArguments + ["--out", "x.h5", "--shard", "1/\(shards)"]) } catch {
            throw UsageError("the score arguments after --: \(ScoreCommand.message(for: error))")
        }
        let fm = FileManager.default
        let folder = URL(fileURLWithPath: out).standardizedFileURL.path
        do { try fm.createDirectory(atPath: folder + "/logs", withIntermediateDirectories: true) } catch {
            throw UsageError("--out \(out): cannot create the job folder: \((error as NSError).localizedDescription)")
        }
        let scripts = SlurmScripts(
            executable: try executable(), scoreArguments: scoreArguments.map(absoluteIfPath), mergeArguments: mergeArguments(),
            shards: shards, folder: folder, shardOptions: sbatchOptions + shardSbatchOptions, mergeOptions: sbatchOptions,
            environment: openblasCoretype.map { [("OPENBLAS_CORETYPE", $0)] } ?? [])
        for file in scripts.files() {
            let path = folder + "/" + file.name
            try AtomicFile.write(file.text, to: path)
            chmod(path, 0o755)
            print(path)
        }
        print("submit with: bash \(shellQuoted(folder))/submit.sh   (the merged metrics: \(scripts.metrics))")
    }

    /// The merge's metric options, as 'metrics' flags.
    func mergeArguments() -> [String] {
        var out = selection.metrics.flatMap { ["--metric", $0.description] }
        out += ["--threshold-rule", selection.thresholdRule.rawValue, "--ci", selection.ci.rawValue]
        out += ["--level", "\(selection.level)", "--seed", "\(selection.seed)"]
        return out
    }

    /// This executable's absolute path, or --alaverify's.
    func executable() throws -> String {
        if let alaverify { return URL(fileURLWithPath: alaverify).standardizedFileURL.path }
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }

    /// Jobs run in their own working folder: an argument naming an existing file becomes absolute.
    func absoluteIfPath(_ argument: String) -> String {
        guard !argument.hasPrefix("-"), FileManager.default.fileExists(atPath: argument) else { return argument }
        return URL(fileURLWithPath: argument).standardizedFileURL.path
    }
}
