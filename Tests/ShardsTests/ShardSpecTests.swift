import AlaverifyBase
@testable import Shards
import Testing

@Suite("which shard: i/n, Slurm array tasks, Kubernetes Indexed Jobs")
struct ShardSpecTests {
    @Test("i/n parses for 1 <= i <= n and names the problem otherwise",
          arguments: [("1/1", true), ("3/8", true), ("8/8", true), ("5/4", false), ("0/4", false), ("2/0", false), ("a/4", false), ("3", false), ("1/2/3", false)])
    func parse(text: String, valid: Bool) {
        #expect((ShardSpec(text) != nil) == valid, "\(text)")
        if !valid {
            #expect(throws: ShardSpecError.self) { try ShardSpec.parse(text) }
        }
    }

    @Test("a Slurm array task is its position in the array, 1-based")
    func slurm() throws {
        let env = ["SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "4", "SLURM_ARRAY_TASK_STEP": "1"]
        #expect(try ShardSpec.fromEnvironment(env, shards: nil) == ShardSpec(index: 4, count: 4))
        let zero = ["SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "0"]
        #expect(try ShardSpec.fromEnvironment(zero, shards: nil) == ShardSpec(index: 1, count: 3))
        let stepped = ["SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_STEP": "2"]
        #expect(try ShardSpec.fromEnvironment(stepped, shards: nil) == ShardSpec(index: 3, count: 3))
        #expect(throws: ShardSpecError.self) { try ShardSpec.fromEnvironment(env, shards: 5) }
    }

    @Test("a Kubernetes Indexed Job needs --shards; outside any array, auto is a usage error")
    func kubernetesAndNone() throws {
        #expect(try ShardSpec.fromEnvironment(["JOB_COMPLETION_INDEX": "0"], shards: 2) == ShardSpec(index: 1, count: 2))
        #expect(throws: ShardSpecError.self) { try ShardSpec.fromEnvironment(["JOB_COMPLETION_INDEX": "0"], shards: nil) }
        #expect(throws: ShardSpecError.self) { try ShardSpec.fromEnvironment(["JOB_COMPLETION_INDEX": "2"], shards: 2) }
        do {
            _ = try ShardSpec.fromEnvironment([:], shards: nil)
            Issue.record("auto outside an array was accepted")
        } catch {
            #expect(error.exitStatus == .usage)
            #expect(error.description.contains("SLURM_ARRAY_TASK_ID"))
        }
    }

    @Test("shard files are named after the output, and the output is found back from them")
    func names() throws {
        let spec = try ShardSpec(index: 3, count: 8)
        #expect(spec.fileName(for: "eval/scores.h5") == "eval/scores.shard-3-of-8.h5")
        #expect(spec.fileName(for: "eval.d/scores") == "eval.d/scores.shard-3-of-8")
        #expect(ShardSpec.output(ofShardFile: "eval/scores.shard-3-of-8.h5")?.output == "eval/scores.h5")
        #expect(ShardSpec.output(ofShardFile: "eval/scores.shard-3-of-8.h5")?.spec == spec)
        #expect(ShardSpec.output(ofShardFile: "eval/scores.h5") == nil)
    }
}
