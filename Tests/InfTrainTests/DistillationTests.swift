// The distillation recipe end to end on tiny tasks: three checkpoints that load with
// the ordinary loader, report the accuracy they were saved with, and retrain bit for bit.
import Foundation
import InfCore
import InfModels
@testable import InfTrain
import XCTest

final class DistillationTests: XCTestCase {
    func tinyShapesTask() -> DistillationTask {
        func conv(_ c: Int) -> CNNConfig.Stage { .init(outChannels: c, kernelSize: 3, padding: 1, pool: .max, poolSize: 4) }
        return DistillationTask(
            name: "tinyshapes", dataset: DatasetSpec(name: "shapes", seed: 3, train: 96, validation: 32, test: 48, size: 32),
            teacher: .cnn(CNNConfig(inputShape: [3, 32, 32], stages: [conv(6), conv(8)], hidden: [16], numClasses: 10)),
            student: .cnn(CNNConfig(inputShape: [3, 32, 32], stages: [conv(3)], hidden: [], numClasses: 10)),
            teacherTraining: TrainingOptions(epochs: 2, batchSize: 32, optimizer: .adam, learningRate: 2e-3, seed: 1),
            studentTraining: TrainingOptions(epochs: 2, batchSize: 32, optimizer: .sgd, learningRate: 0.05, seed: 2),
            studentLayersFromTeacher: nil, describeTeacher: "tiny teacher", describeStudent: "tiny student")
    }

    func tinySentimentTask() -> DistillationTask {
        var task = DistillationTask.sentiment
        task.name = "tinysentiment"
        task.dataset = DatasetSpec(name: "sentiment", seed: 3, train: 64, validation: 16, test: 32, size: 16)
        func shrink(_ a: Architecture, layers: Int) -> Architecture {
            guard case .encoder(var c) = a else { return a }
            (c.hiddenSize, c.numHeads, c.intermediateSize, c.numLayers, c.maxPositions) = (16, 2, 32, layers, 16)
            return .encoder(c)
        }
        task.teacher = shrink(task.teacher, layers: 3)
        task.student = shrink(task.student, layers: 2)
        task.studentLayersFromTeacher = [0, 2]
        task.teacherTraining.epochs = 1
        task.studentTraining.epochs = 1
        return task
    }

    func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "infbench-distill-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    func testCheckpointsLoadAndReportTheirAccuracy() throws {
        for task in [tinyShapesTask(), tinySentimentTask()] {
            let dir = try temporaryDirectory()
            let trained = try Distillation.run(task) { _ in }
            XCTAssertEqual(trained.map(\.role), DistillationTask.Role.allCases)
            for checkpoint in trained {
                try Distillation.save(checkpoint, in: dir)
                let loaded = try ModelLoader.load("\(dir)/\(checkpoint.name)")
                XCTAssertEqual(loaded.config.dataset, task.dataset)
                XCTAssertEqual(loaded.config.inDefaultSuite, checkpoint.role == .teacher, "students stay out of the default run")
                let test = try XCTUnwrap(loaded.model.evaluationSet)
                XCTAssertEqual(test.count, task.dataset.test)
                // The inference model reproduces the trainable model's test accuracy exactly.
                XCTAssertEqual(accuracy(of: predictions(loaded.model, test), test.labels), checkpoint.testAccuracy, accuracy: 1e-12, checkpoint.name)
            }
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains("partial") }
            XCTAssertEqual(leftovers, [], "no staging directories left behind")
        }
    }

    func testRetrainingIsBitIdentical() throws {
        let task = tinySentimentTask()
        let a = try Distillation.run(task) { _ in }, b = try Distillation.run(task) { _ in }
        for (x, y) in zip(a, b) {
            XCTAssertEqual(x.tensors.map(\.tensor), y.tensors.map(\.tensor), x.name)
            XCTAssertEqual(x.testAccuracy, y.testAccuracy)
        }
        var other = task
        other.studentTraining.seed += 1
        let c = try Distillation.run(other, roles: [.student]) { _ in }
        XCTAssertNotEqual(c[0].tensors.map(\.tensor), a[1].tensors.map(\.tensor), "the seed changes the student")
    }

    func testDistilledEncoderStartsFromAlternateTeacherLayers() throws {
        let teacher: [String: Tensor] = [
            "embeddings.word_embeddings.weight": Tensor(shape: [1], storage: [7]),
            "encoder.layer.0.output.dense.weight": Tensor(shape: [1], storage: [0]),
            "encoder.layer.1.output.dense.weight": Tensor(shape: [1], storage: [1]),
            "encoder.layer.2.output.dense.weight": Tensor(shape: [1], storage: [2]),
            "encoder.layer.12.output.dense.weight": Tensor(shape: [1], storage: [12]),
            "classifier.weight": Tensor(shape: [1], storage: [9]),
        ]
        let student = Distillation.selectLayers(teacher, [0, 2])
        XCTAssertEqual(student.keys.sorted(), ["classifier.weight", "embeddings.word_embeddings.weight",
                                               "encoder.layer.0.output.dense.weight", "encoder.layer.1.output.dense.weight"])
        XCTAssertEqual(student["encoder.layer.1.output.dense.weight"]?.storage, [2])
    }

    func testDistilledStudentAgreesWithTheTeacherAtLeastAsOftenAsTheScratchStudent() throws {
        // With α = 1 the distilled student learns the teacher's outputs: it agrees with the
        // teacher on the training data at least as often as the scratch student does.
        var task = tinyShapesTask()
        task.studentTraining.alpha = 1
        task.studentTraining.epochs = 4
        let trained = try Distillation.run(task) { _ in }
        let teacher = try Distillation.inferenceModel(task.teacher, tensors: Dictionary(uniqueKeysWithValues: trained[0].tensors), name: "t")
        let train = task.dataset.generate(.train)
        let target = predictions(teacher, train)
        func agreement(_ c: TrainedCheckpoint) throws -> Double {
            accuracy(of: predictions(try Distillation.inferenceModel(task.student, tensors: Dictionary(uniqueKeysWithValues: c.tensors), name: "s"), train), target)
        }
        XCTAssertGreaterThanOrEqual(try agreement(trained[2]), try agreement(trained[1]))
    }
}
