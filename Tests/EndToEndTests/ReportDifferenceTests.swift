import Foundation
import Testing

@Suite("alaverify report with two systems: the paired difference at each operating point (the built binary)")
struct ReportDifferenceTests {
    @Test("the difference from the first system, its paired CI and verdict: printed, in summary.md, repeatable")
    func difference() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let args = ["report", "fixtures/demo-pixels8.csv", "fixtures/demo-pixels32.csv", "--far", "0.05", "--far", "0.01",
                    "--replicates", "200", "--force", "--out"]
        let r = try CLI.run(args + [dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").filter { $0.hasPrefix("frr@far=") }
        #expect(lines.count == 2, "\(r.stdout)")
        // 1,490 and 1,491 false rejects of 1,680 (metrics): 88.7% vs 88.8%, 1 in 1,680 = -0.06 points.
        #expect(lines.first == "frr@far=0.05: demo-pixels32.csv 88.7% vs demo-pixels8.csv 88.8%: -0.06 points, 95% CI [-1.73, +1.85] (paired subject bootstrap, 200 replicates): the CI contains 0 (no difference resolved)")
        let summary = try String(contentsOf: dir.appendingPathComponent("summary.md"), encoding: .utf8)
        #expect(summary.contains("**Differences from demo-pixels8.csv**"))
        for line in lines { #expect(summary.contains("- " + line)) }
        let again = try CLI.run(args + [dir.path])
        #expect(again.stdout == r.stdout, "seeded: the same intervals")
        // No intervals asked, no differences computed.
        let none = try CLI.run(args + [dir.path, "--ci", "none"])
        #expect(none.status == 0 && !none.stdout.contains("frr@far="), "\(none.stdout)")
    }
}
