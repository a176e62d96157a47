# The tanlian image: one department node, or the embedded chain host.
FROM python:3.11-slim
WORKDIR /app
COPY requirements.lock pyproject.toml README.md ./
RUN pip install --no-cache-dir -r requirements.lock
COPY node ./node
COPY cli ./cli
COPY analytics ./analytics
COPY network-config ./network-config
RUN pip install --no-cache-dir --no-deps .
ENTRYPOINT ["tanlian"]
