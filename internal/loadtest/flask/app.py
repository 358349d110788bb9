"""The seed system: flask-jwt-extended's basic example, GET /protected.

Served by gunicorn (app:app); `python3 app.py mint N FILE` writes N access
tokens for distinct users to FILE. The key comes from LOAD_JWT_SECRET.
"""
import os
import sys
from datetime import timedelta

from flask import Flask, jsonify
from flask_jwt_extended import (JWTManager, create_access_token,
                                get_jwt_identity, jwt_required)

app = Flask(__name__)
app.config["JWT_SECRET_KEY"] = os.environ["LOAD_JWT_SECRET"]
app.config["JWT_ACCESS_TOKEN_EXPIRES"] = timedelta(hours=1)
jwt = JWTManager(app)


@app.route("/protected", methods=["GET"])
@jwt_required()
def protected():
    return jsonify(logged_in_as=get_jwt_identity()), 200


if __name__ == "__main__" and sys.argv[1:2] == ["mint"]:
    with app.app_context(), open(sys.argv[3], "w") as f:
        for i in range(int(sys.argv[2])):
            f.write(create_access_token(identity=f"user-{i}") + "\n")
