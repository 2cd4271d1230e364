"""The kiosk's machine learning: CreateAI-compatible features, training, TFLite, explanations.

Modules, in the order data flows through them: ``windows`` (CreateAI's data
windows), ``features`` (the 24 features and fingerprints), ``scaling``
(standardisation with a prior, for few recordings), ``training``
(scikit-learn-shaped estimators; the network becomes a ``DenseNetwork``),
``evaluation`` (honest accuracy, confusion matrix, few-shot learning curves),
``network`` / ``tflite_writer`` / ``runtime`` (the model file and its
interpreter), ``train_worker`` (the training child process), ``predictor``
(live recognition on every sample) and the explanation modules. Nothing is
imported here, so importing one module does not pull in scikit-learn or the
TFLite runtime.
"""
