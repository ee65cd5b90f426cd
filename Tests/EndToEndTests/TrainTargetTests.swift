import AlaverifyBase
import Foundation
import ScoreMetrics
import Testing

/// Every SPEC target can be the validation target and the ALA reward.
@Suite struct TrainTargetTests {
    @Test(arguments: ["roc_auc", "far@frr=0.2"])
    func anySpecTargetDrivesTheController(_ target: String) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run")
        let r = try train(run, ["--target", target, "--steps", "8", "--interval", "4", "--children", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = try String(contentsOf: run.appendingPathComponent("history.jsonl"), encoding: .utf8)
            .split(separator: "\n")
        #expect(lines.count == 2)  // one child, validations at steps 4 and 8
        for line in lines {
            let record = try JSONValue.parse(Data(line.utf8))
            let validation = try #require(record["validation"])
            #expect(validation["target"] == .string(target))
            let value = try #require(validation["value"]?.doubleValue)
            let reward = try #require(validation["reward_value"]?.doubleValue)
            // The reward side is oriented so that lower is better: 1 - AUC for areas, the rate itself
            // for far@frr (no FAR band: the band applies to frr@far targets only).
            #expect(reward == (target == "roc_auc" ? 1 - value : value))
            // An action per loss parameter (-1, 0 or +1) was logged.
            guard case .array(let actions)? = record["actions"] else { Issue.record("no actions"); continue }
            #expect(actions.count == 20)
            #expect(actions.allSatisfy { [.int(-1), .int(0), .int(1)].contains($0) })
        }
    }
}
