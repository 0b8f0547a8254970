// fastExp and fastErf (the vectorisable exp/erf behind softmax and GELU) against Double.
import Foundation
import InfCore
import XCTest

final class FastMathTests: XCTestCase {
    /// 0 and ±(every 97th positive Float bit pattern) that lie in [lo, hi]: ~10⁶ points over all exponents.
    func sweep(_ lo: Float, _ hi: Float, _ body: (Float) -> Void) {
        body(0)
        var m = Float.leastNormalMagnitude
        while m <= max(-lo, hi) {
            if m <= hi { body(m) }
            if -m >= lo { body(-m) }
            m = Float(bitPattern: m.bitPattern &+ 97)
        }
    }

    func testExpRelativeErrorIsAFewUlpOverTheRange() {
        // Stated bound: 2⁻²² relative (≈ 4 ulp) where the result is a normal Float.
        var worst = 0.0
        var worstAt: Float = 0
        sweep(-87.0, 88.3) { x in
            let exact = Foundation.exp(Double(x))
            let err = abs(Double(fastExp(x)) - exact) / exact
            if err > worst { worst = err; worstAt = x }
        }
        XCTAssertLessThanOrEqual(worst, pow(2, -22), "worst relative error \(worst) at x = \(worstAt)")
    }

    func testExpSpecialValues() {
        XCTAssertEqual(fastExp(0), 1)
        XCTAssertEqual(fastExp(-.infinity), 0, "a masked score must become exactly 0")
        XCTAssertEqual(fastExp(-100), 0)
        XCTAssertEqual(fastExp(.infinity), .infinity)
        XCTAssertEqual(fastExp(100), .infinity)
        XCTAssertTrue(fastExp(.nan).isNaN)
    }

    func testErfAbsoluteErrorBound() {
        // Stated bound 3e-7: A&S 7.1.26 is within 1.5e-7 of erf, and the `1 − …` step adds rounding.
        var worst = 0.0
        var worstAt: Float = 0
        sweep(-12, 12) { x in
            let err = abs(Double(fastErf(x)) - Foundation.erf(Double(x)))
            if err > worst { worst = err; worstAt = x }
        }
        XCTAssertLessThanOrEqual(worst, 3e-7, "worst absolute error \(worst) at x = \(worstAt)")
    }

    func testErfIsOddAndSaturates() {
        for x: Float in [0.1, 0.5, 1, 2, 3.7] { XCTAssertEqual(fastErf(-x), -fastErf(x)) }
        XCTAssertEqual(fastErf(0), 0, accuracy: 2e-7)
        XCTAssertEqual(fastErf(50), 1)
        XCTAssertEqual(fastErf(-.infinity), -1)
    }

    func testTheBoundsHaveTeeth() {
        // A polynomial one term short must break the stated exp bound.
        let crude: (Float) -> Float = { x in
            let n = (x * 1.442_695).rounded()
            let r = x - n * 0.693_147_2
            return (1 + r + r * r / 2 + r * r * r / 6) * Float(pow(2.0, Double(n)))
        }
        let err = abs(Double(crude(0.3)) - Foundation.exp(0.3)) / Foundation.exp(0.3)
        XCTAssertGreaterThan(err, pow(2, -22))
    }
}
