import AlaverifyBase
import Foundation

/// The job scripts of a sharded evaluation on Slurm: an array job whose task i scores shard i
/// (`score ... --shard auto`), and a merge job that runs only when every task succeeded
/// (`--dependency=afterok` on the array, `--kill-on-invalid-dep=yes`: a failed shard cancels it,
/// so a merge never runs on partial data).
public struct SlurmScripts: Sendable {
    /// The alaverify executable the jobs run (an absolute path).
    public var executable: String
    /// Arguments of `alaverify score` (without `--shard`/`--out`).
    public var scoreArguments: [String]
    /// Extra arguments of `alaverify metrics --merge` (metric selection).
    public var mergeArguments: [String]
    /// The number of shards.
    public var shards: Int
    /// The job folder (absolute): scripts, shard files, logs, the merged metrics.
    public var folder: String
    /// `#SBATCH` lines for both jobs (e.g. `--partition=cpu`, `--time=2:00:00`).
    public var shardOptions: [String]
    public var mergeOptions: [String]
    /// Environment the jobs export (e.g. `OPENBLAS_CORETYPE`).
    public var environment: [(String, String)]

    public init(
        executable: String, scoreArguments: [String], mergeArguments: [String], shards: Int, folder: String,
        shardOptions: [String] = [], mergeOptions: [String] = [], environment: [(String, String)] = []
    ) {
        self.executable = executable
        self.scoreArguments = scoreArguments
        self.mergeArguments = mergeArguments
        self.shards = shards
        self.folder = folder
        self.shardOptions = shardOptions
        self.mergeOptions = mergeOptions
        self.environment = environment
    }

    /// The scores file the shards stand for.
    public var output: String { folder + "/scores.h5" }
    /// The merged metrics JSON.
    public var metrics: String { folder + "/metrics.json" }

    /// File names and contents: `shards.sbatch`, `merge.sbatch`, `submit.sh`.
    public func files() -> [(name: String, text: String)] {
        let exports = environment.map { "export \($0.0)=\(shellQuoted($0.1))\n" }.joined()
        let shardJob = """
            #!/bin/bash
            #SBATCH --job-name=alaverify-shards
            #SBATCH --array=1-\(shards)
            #SBATCH --output=\(folder)/logs/shard-%a.out
            \(shardOptions.map { "#SBATCH \($0)\n" }.joined())# Task i scores shard i of \(shards) (alaverify reads SLURM_ARRAY_TASK_ID and _COUNT).
            set -euo pipefail
            \(exports)export ALAVERIFY_THREADS="${SLURM_CPUS_PER_TASK:-1}"
            exec \(command(["score"] + scoreArguments + ["--shard", "auto", "--out", output]))

            """
        let mergeJob = """
            #!/bin/bash
            #SBATCH --job-name=alaverify-merge
            #SBATCH --output=\(folder)/logs/merge.out
            \(mergeOptions.map { "#SBATCH \($0)\n" }.joined())# Runs only when every shard succeeded (submit.sh: --dependency=afterok).
            set -euo pipefail
            \(exports)export ALAVERIFY_THREADS="${SLURM_CPUS_PER_TASK:-1}"
            exec \(command(["metrics", "--merge"])) \(shellQuoted(folder))/scores.shard-*-of-\(shards).h5 \(command(mergeArguments + ["--json", metrics], program: false))

            """
        let submit = """
            #!/bin/bash
            # Submits the shards as an array job and the merge as a job that runs only when every
            # shard succeeded; a failed shard cancels the merge (no metrics.json is written).
            set -euo pipefail
            cd \(shellQuoted(folder))
            mkdir -p logs
            array=$(sbatch --parsable shards.sbatch)
            array=${array%%;*}
            merge=$(sbatch --parsable --dependency=afterok:$array --kill-on-invalid-dep=yes merge.sbatch)
            merge=${merge%%;*}
            echo "submitted: shards job $array (array 1-\(shards)), merge job $merge -> \(metrics)"
            echo "$array $merge" > jobs

            """
        return [("shards.sbatch", shardJob), ("merge.sbatch", mergeJob), ("submit.sh", submit)]
    }

    private func command(_ arguments: [String], program: Bool = true) -> String {
        ((program ? [executable] : []) + arguments).map(shellQuoted).joined(separator: " ")
    }
}
