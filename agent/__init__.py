"""The DQN agent: networks, replay memory, the learner, the trainer and checkpoints.

Knows games only through Gymnasium spaces and the game registry's descriptions.
"""
